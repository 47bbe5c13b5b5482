"""Stats: get_share_stats(refresh=True) as the scheduler reads it."""

from __future__ import annotations

from certkit.catalogue import FEATURES_BY_ID
from certkit.contract.capabilities import (advertised_unclaimed, claim_problems, fresh_stats,
                                           pool_views, unknown_keys)
from certkit.contract.checks import check, expect


def pytest_generate_tests(metafunc):
    # Every feature is a variant; the plugin skips those the profile does not claim.
    if "claimed_feature" in metafunc.fixturenames:
        metafunc.parametrize("claimed_feature", sorted(FEATURES_BY_ID))


@check("2b4d5b7d-0666-4fd2-a6c8-87fb0e12b570", "share")
def test_stats_match_schema(driver, certkit_run):
    """Top level and every pool match stats.schema.json; unknown keys become warnings."""
    stats = fresh_stats(driver, validate=True)
    for where in unknown_keys(stats):
        certkit_run.warn(f"stats: unknown key {where} (not in stats.schema.json; "
                         "vendor keys should carry a vendor prefix)")
    for message in advertised_unclaimed(stats, certkit_run.profile):
        certkit_run.warn(message)


@check("9f79cb1c-8be6-4566-87ec-c370d69b37d0", "share")
def test_free_capacity_not_above_total(driver):
    """free_capacity_gb <= total_capacity_gb wherever both are numbers."""
    stats = fresh_stats(driver)
    for name, view in [("(backend)", stats), *pool_views(stats)]:
        free, total = view.get("free_capacity_gb"), view.get("total_capacity_gb")
        if isinstance(free, (int, float)) and isinstance(total, (int, float)):
            expect(free <= total, f"pool {name}: free_capacity_gb {free} > total_capacity_gb {total}")


@check("23dcb70c-64d2-4bc9-b017-5160832684d7", "{claimed_feature}")
def test_claim_backed_by_capabilities(request, dut, claimed_feature):
    """Each claimed feature's capabilities are reported, as the scheduler sees them per pool
    (DHSS-only features on the DHSS=True instance)."""
    if FEATURES_BY_ID[claimed_feature].dhss:
        dut = request.getfixturevalue("server_dut")
    problems = claim_problems(fresh_stats(dut.driver), dut, claimed_feature)
    expect(not problems, "; ".join(problems))
