"""The arithmetic of a scale result: percentiles, exponents, growth judgements, the deadline
workers and the profile's `scale:` block."""

from __future__ import annotations

import threading
import time

import pytest

from certkit.errors import ProfileError
from certkit.profile import load_profile
from certkit.scale.analysis import OPERATIONS_BY_NAME, curve, exponent, figures, verified_shares
from certkit.scale.workers import run_all
from tests.scale.profiles import scale_profile


def test_percentiles_of_known_samples():
    figs = figures([i / 1000 for i in range(1, 101)])
    assert figs["count"] == 100 and figs["errors"] == 0
    assert figs["p50"] == pytest.approx(0.0505) and figs["p95"] == pytest.approx(0.09505)
    assert figs["p99"] == pytest.approx(0.09901) and figs["max"] == 0.1
    assert figures([], errors=3, first_error="boom") == {"count": 0, "errors": 3, "first_error": "boom"}


def test_exponent_recovers_power_laws():
    ns = [100, 500, 2000, 10000]
    assert exponent(ns, [0.002 for _ in ns]) == pytest.approx(0.0, abs=1e-9)
    assert exponent(ns, [1e-5 * n for n in ns]) == pytest.approx(1.0)
    assert exponent(ns, [1e-8 * n * n for n in ns]) == pytest.approx(2.0)
    assert exponent([100], [0.1]) is None


def _steps(op: str, values: dict[int, float]) -> list[dict]:
    return [{"shares": n, "errors": 0, "operations": {op: {"count": 5, "errors": 0, "p50": v,
                                                            "p95": v}}}
            for n, v in values.items()]


def test_growing_cost_is_a_finding_with_numbers():
    op = OPERATIONS_BY_NAME["get_share_stats"]
    result = curve(op, _steps(op.name, {100: 0.002, 1000: 0.02, 10000: 0.2}))
    assert result["grows_with_n"] and result["exponent"] == pytest.approx(1.0)
    assert "p50 2 ms at N=100 -> 200 ms at N=10,000" in result["finding"]
    # Growth, but small in absolute terms (a busy machine's noise): not a finding.
    assert not curve(op, _steps(op.name, {100: 0.0003, 1000: 0.005, 10000: 0.007}))["grows_with_n"]


def test_flat_or_tiny_costs_are_not_findings():
    op = OPERATIONS_BY_NAME["create_share"]
    assert not curve(op, _steps(op.name, {100: 0.3, 1000: 0.31, 10000: 0.29}))["grows_with_n"]
    # Grows, but stays far under a millisecond: noise on a busy machine, not a finding.
    assert not curve(op, _steps(op.name, {100: 1e-5, 1000: 5e-5, 10000: 2e-4}))["grows_with_n"]


def test_a_tail_that_explodes_under_a_flat_median_is_a_finding():
    """What CephFS's get_share_stats did at 2,000 subvolumes here: p50 flat, p95 to seconds."""
    op = OPERATIONS_BY_NAME["get_share_stats"]
    steps = [{"shares": n, "errors": 0, "operations": {op.name: {"count": 10, "errors": 0,
                                                                 "p50": 0.0005, "p95": p95}}}
             for n, p95 in ((100, 0.0009), (500, 4.3), (2000, 16.5))]
    result = curve(op, steps)
    assert not result["grows_with_n"] and result["tail_grows_with_n"]
    assert "tail latency grows with N" in result["finding"] and "16.5" in result["finding"] \
        or "1.65e+04 ms at N=2,000" in result["finding"], result["finding"]


def test_restart_is_judged_against_linear():
    op = OPERATIONS_BY_NAME["ensure_shares"]
    linear = curve(op, _steps(op.name, {100: 0.1, 1000: 1.0, 10000: 10.0}))
    quadratic = curve(op, _steps(op.name, {100: 0.01, 1000: 1.0, 10000: 100.0}))
    assert linear["exponent"] == pytest.approx(1.0) and not linear["grows_with_n"]
    assert quadratic["grows_with_n"] and "expected 1" in quadratic["finding"]


def test_update_access_is_judged_against_the_rule_count():
    op = OPERATIONS_BY_NAME["update_access_add"]
    steps = _steps(op.name, {100: 0.001, 1000: 0.001})
    slow = curve(op, steps, [(k, 0.0001 * k) for k in range(1, 301)])
    flat = curve(op, steps, [(k, 0.002) for k in range(1, 301)])
    assert slow["grows_with_rules"] and "grows with the rules on the share" in slow["finding"]
    assert not flat["grows_with_rules"] and "finding" not in flat


def test_verified_shares_stops_at_the_first_step_with_errors():
    steps = [{"shares": 100, "errors": 0}, {"shares": 500, "errors": 2}, {"shares": 2000, "errors": 0}]
    assert verified_shares(steps) == 100
    assert verified_shares([{"shares": 100, "errors": 1}]) == 0


def test_workers_abandon_a_hanging_call_and_honour_a_stop():
    timed_out = []
    start = time.monotonic()
    values = run_all(lambda i: time.sleep(30) if i == 3 else i * 2, range(8), workers=2,
                     deadline=0.5, on_timeout=timed_out.append)
    assert sorted(values) == [0, 2, 4, 8, 10, 12, 14] and timed_out == [3]
    assert time.monotonic() - start < 10
    stop = threading.Event()
    seen = []

    def slow(i):
        seen.append(i)
        if i == 4:
            stop.set()
        return i

    run_all(slow, range(1000), workers=1, deadline=5, stop=stop)
    assert seen == [0, 1, 2, 3, 4]


def test_profile_scale_block_defaults_and_steps(tmp_path):
    profile = load_profile(scale_profile(tmp_path))
    assert profile.scale == {"target_shares": 2000, "steps": [100, 500, 2000], "rules_per_share": 500,
                             "concurrency": 8, "samples": 20}
    custom = load_profile(scale_profile(tmp_path, target_shares=300, steps=[10, 100], concurrency=2))
    assert custom.scale["steps"] == [10, 100, 300] and custom.scale["concurrency"] == 2


@pytest.mark.parametrize("block,field,problem", [
    ({"steps": [500, 100]}, "scale.steps[1]", "steps must ascend (100 after 500)"),
    ({"target_shares": 200, "steps": [100, 300]}, "scale.steps[1]", "step 300 is above scale.target_shares (200)"),
    ({"target_share": 10}, "scale.target_share", "unknown key (allowed: concurrency, rules_per_share, samples, steps, target_shares)"),
    ({"target_shares": "many"}, "scale.target_shares", "'many' is not of type 'integer'"),
    ({"concurrency": 0}, "scale.concurrency", "0 is less than the minimum of 1"),
])
def test_bad_scale_block_is_one_line_naming_the_field(tmp_path, block, field, problem):
    path = scale_profile(tmp_path, **block)
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert str(err.value) == f"{path}: {field}: {problem}"


def test_parallel_cleanup_keeps_to_its_time_budget():
    """Deletes queued behind slow ones get what is left of the clean-up time, not all of it."""
    from certkit.harness.ledger import ResourceLedger

    ledger = ResourceLedger(timeout=1.0, workers=2)
    deleted = []
    for i in range(40):
        ledger.track("share", f"s{i}", f"share-{i}", lambda i=i: (time.sleep(0.2), deleted.append(i)))
    start = time.monotonic()
    leaks = ledger.cleanup()
    assert time.monotonic() - start < 5
    done = len(deleted)
    assert 4 <= done <= 14 and 40 - done - 2 <= len(leaks) <= 40 - done
    assert ledger.outstanding() == []
