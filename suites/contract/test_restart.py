"""Restart: a new driver instance over the same private storage finds existing shares."""

from __future__ import annotations

from certkit.contract.checks import check, expect
from certkit.contract.restart import Restart


@check("133767d3-6946-4505-a467-ed4797569fb8", "ensure_shares")
def test_second_instance_ensures_existing_shares(resources, certkit_run, dut, context, profile):
    """get_backend_info is stable across instances; ensure_shares (or, for older drivers,
    ensure_share) on a new instance returns valid updates for every share, without raising."""
    res = resources
    restart = Restart(res, certkit_run.new_driver, dut)
    shares = [res.create_share(proto) for proto in profile.protocols]
    second = restart.second_instance()
    first_info = restart.backend_info(res.driver)
    second_info = restart.backend_info(second)
    expect(first_info == second_info,
           f"get_backend_info differs between two instances of the same back end: "
           f"{first_info!r} != {second_info!r} (the manager would re-ensure on every restart)")
    result = restart.ensure_existing(second, shares)
    if result is not None:
        unknown = set(result or {}) - {s["id"] for s in shares}
        expect(not unknown, f"ensure_shares returned updates for shares it was not given: {sorted(unknown)}")
        for share_id, update in (result or {}).items():
            expect(update.get("status") not in ("error",),
                   f"ensure_shares reported share {share_id} in error after a restart")
    for share in shares:
        res.delete_share(share, driver=second)
