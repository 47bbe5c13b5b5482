"""Stats: get_share_stats(refresh=True) as the scheduler reads it."""

from __future__ import annotations

from typing import Any

from certkit.contract.capabilities import (advertised_unclaimed, claim_problems, pool_views,
                                           unknown_keys)
from certkit.contract.catalogue import FEATURES_BY_ID
from certkit.contract.checks import check, expect, expect_schema
from certkit.pytest_plugin import RUN_KEY


def pytest_generate_tests(metafunc):
    if "claimed_feature" in metafunc.fixturenames and RUN_KEY in metafunc.config.stash:
        claimed = sorted(metafunc.config.stash[RUN_KEY].profile.claimed)
        metafunc.parametrize("claimed_feature", claimed)


def _fresh_stats(driver: Any) -> dict[str, Any]:
    stats = driver.get_share_stats(refresh=True)
    expect(isinstance(stats, dict), f"get_share_stats returned {type(stats).__name__}, not a dict")
    return stats


@check("2b4d5b7d-0666-4fd2-a6c8-87fb0e12b570", "share")
def test_stats_match_schema(driver, certkit_run):
    """Top level and every pool match stats.schema.json; unknown keys become warnings."""
    stats = _fresh_stats(driver)
    expect_schema(stats, "stats.schema.json", "get_share_stats()")
    for where in unknown_keys(stats):
        certkit_run.warn(f"stats: unknown key {where} (not in stats.schema.json; "
                         "vendor keys should carry a vendor prefix)")
    for message in advertised_unclaimed(stats, certkit_run.profile):
        certkit_run.warn(message)


@check("9f79cb1c-8be6-4566-87ec-c370d69b37d0", "share")
def test_free_capacity_not_above_total(driver):
    """free_capacity_gb <= total_capacity_gb wherever both are numbers."""
    stats = _fresh_stats(driver)
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
    problems = claim_problems(_fresh_stats(dut.driver), dut, claimed_feature)
    expect(not problems, "; ".join(problems))
