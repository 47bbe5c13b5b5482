"""The live tier's gates, without a lab: the same claims as in-process, minus what a user of the
API cannot drive (the manager re-sending rules), restarts only where certkit runs the services,
and what counts as a divergence (a status or an API refusal, not a lost connection)."""

from __future__ import annotations

from certkit.apitier.target import ApiTarget
from certkit.explore.binding import claims_of
from certkit.explore.exploration import ExploreOptions
from certkit.explore.live import LIVE_MAX_RULES, is_live_divergence, live_claims


def _target(restarter=None) -> ApiTarget:
    return ApiTarget("http://127.0.0.1:1/v3", "admin", "secret", "admin", restarter=restarter)


def test_live_claims_keep_the_profiles_and_drop_what_the_api_cannot_drive(dummy_profile):
    options = ExploreOptions(max_size=3, max_rules=256)
    lab = live_claims(dummy_profile, _target(lambda services: None), options)
    cloud = live_claims(dummy_profile, _target(), options)
    in_process = claims_of(dummy_profile, False, 3, 256)
    assert lab.features == in_process.features and "ensure_shares" in lab.features
    assert cloud.features == in_process.features - {"ensure_shares"}, "an OS_* cloud is not restarted"
    assert (lab.resend, lab.data_path, lab.max_size, lab.max_rules) == (False, False, 3, LIVE_MAX_RULES)
    assert in_process.resend and in_process.max_rules == 256


def test_a_live_divergence_is_a_status_or_an_api_refusal_not_a_lost_connection():
    from tempest.lib import exceptions as lib_exc

    from certkit.apitier.client import WaitTimeout

    assert is_live_divergence(WaitTimeout("share s1 -> available: ended in error"))
    assert is_live_divergence(lib_exc.BadRequest("size"))
    assert is_live_divergence(lib_exc.ServerFault("500"))
    assert not is_live_divergence(ConnectionRefusedError("keystone"))
