"""Scale checks: the back end grown in steps to the profile's `scale.target_shares`; each
operation's latency percentiles at every step, its cost fitted against N, and a finding (with
its numbers) where the cost grows with N or an operation fails at scale.

The first check measures (see conftest.py); the others judge the same measurement. Latency
growth is `recommended` (a finding that does not revoke the functional certificate); errors at
scale are `required`.
"""

from __future__ import annotations

from typing import Any

import pytest

from certkit.contract.checks import check, expect
from suites.scale.conftest import measured_pair

def _problems(result: dict[str, Any], ops: tuple[str, ...]) -> list[str]:
    problems = []
    for name in ops:
        curve = result["operations"].get(name)
        if curve and "finding" in curve:
            problems.append(curve["finding"])
        for step in result["step_results"]:
            figs = step["operations"].get(name)
            if figs and figs["errors"]:
                problems.append(f"{name} at N={step['shares']:,}: {figs['errors']} of "
                                f"{figs['errors'] + figs['count']} calls failed; first: "
                                f"{figs.get('first_error', '')}")
    return problems


def _judge(result: dict[str, Any], *ops: str) -> None:
    if not any(name in result["operations"] for name in ops):
        pytest.skip(f"{', '.join(ops)} not measured (the measurement stopped before it)")
    problems = _problems(result, ops)
    expect(not problems, "; ".join(problems))


@check("55137fb6-d1fc-49f8-9f40-609e32ff83c7", "share")
def test_target_reached_without_errors(scale):
    """Every step up to target_shares completed, every operation without an error."""
    result = scale()
    if result.get("stopped") == "interrupted":
        pytest.skip("interrupted")
    expect(result["verified_shares"] >= result["target_shares"],
           f"verified to N={result['verified_shares']:,} of {result['target_shares']:,} shares "
           f"with zero errors: " + "; ".join(f for f in result["findings"]
                                             if "error" in f or f.startswith("stopped")))


@check("09cbe439-cf85-4444-8cb2-6f83c942f273", "share", level="recommended")
def test_create_and_delete_cost_does_not_grow_with_n(scale):
    """create_share and delete_share latency stays flat as the back end fills."""
    _judge(scale(), "create_share", "delete_share")


@check("c36a8c8b-e9aa-4d98-b81d-41adea62f49d", "snapshot", level="recommended")
def test_snapshot_cost_does_not_grow_with_n(scale):
    """create_snapshot and delete_snapshot latency stays flat as the back end fills."""
    _judge(scale(), "create_snapshot", "delete_snapshot")


@check("cc20c1d1-c1ad-44a5-aa8a-094a5b7eba32", "access_{access_type}", level="recommended")
def test_access_rule_cost_does_not_grow(scale, profile, proto, access_type):
    """update_access adding or removing one rule stays flat with N shares present and with
    hundreds of rules already on the share."""
    if (proto, access_type) != measured_pair(profile):
        pytest.skip("update_access at scale is measured with %s-%s rules" % measured_pair(profile))
    _judge(scale(), "update_access_add", "update_access_remove")


@check("04e90c4d-8e0e-46e7-b783-4e8ba3e2db59", "share", level="recommended")
def test_stats_cost_does_not_grow_with_n(scale):
    """get_share_stats(refresh=True) does not walk every share."""
    _judge(scale(), "get_share_stats")


@check("650939eb-a86c-490c-8755-8e69c8b0baa8", "share", level="recommended")
def test_restart_cost_is_at_most_linear(scale):
    """A restart (second instance: get_backend_info, ensure_shares over all N shares) costs at
    most linearly in N, and get_backend_info does not grow."""
    _judge(scale(), "get_backend_info", "ensure_shares")
