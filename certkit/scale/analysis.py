"""Latency percentiles, the log-log exponent of an operation's cost against N, and the judgement
of whether that cost grows with N (a finding, with its numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy

PERCENTILES = (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))

GROWTH_TOLERANCE = 0.3
"""An exponent this far above the expected one is growth (0.3 over two decades of N is 4x)."""
MATERIAL_SECONDS = 0.010
"""Growth that stays under 10 ms at the largest N is not a finding: on a busy 2-core machine a
dummy call's p50 wanders up to ~7 ms, while a driver that walks thousands of shares costs more."""
TAIL_MATERIAL_SECONDS = 0.1
"""A p95 that grows is a finding only past 100 ms at the largest N (a few samples make it noisy)."""
MIN_RULE_POINTS = 10


@dataclass(frozen=True)
class Operation:
    """One measured operation: its report name and how its cost should scale."""

    name: str
    title: str
    expected_exponent: float = 0.0
    """0: one call per object, its cost should not depend on N; 1: one call over all N shares."""


OPERATIONS = (
    Operation("create_share", "create_share"),
    Operation("delete_share", "delete_share"),
    Operation("create_snapshot", "create_snapshot"),
    Operation("delete_snapshot", "delete_snapshot"),
    Operation("update_access_add", "update_access adding one rule"),
    Operation("update_access_remove", "update_access removing one rule"),
    Operation("get_share_stats", "get_share_stats(refresh=True)"),
    Operation("get_backend_info", "get_backend_info (restart)"),
    Operation("ensure_shares", "ensure_shares over all N shares (restart)", expected_exponent=1.0),
)
OPERATIONS_BY_NAME = {op.name: op for op in OPERATIONS}


def figures(samples: Sequence[float], errors: int = 0, first_error: str | None = None) -> dict[str, Any]:
    """count, errors and p50/p95/p99/max (seconds) of one operation at one step."""
    entry: dict[str, Any] = {"count": len(samples), "errors": errors}
    if samples:
        values = numpy.percentile(numpy.asarray(samples, dtype=float), [p for _, p in PERCENTILES])
        entry.update({key: round(float(v), 6) for (key, _), v in zip(PERCENTILES, values)})
    if first_error:
        entry["first_error"] = first_error
    return entry


def exponent(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of log(y) against log(x); None without two distinct positive x."""
    pairs = [(x, y) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len({x for x, _ in pairs}) < 2:
        return None
    logx = numpy.log([x for x, _ in pairs])
    logy = numpy.log([y for _, y in pairs])
    return round(float(numpy.polyfit(logx, logy, 1)[0]), 3)


def grows(slope: float | None, expected: float, first: float, last: float, x_ratio: float,
          material: float = MATERIAL_SECONDS) -> bool:
    """Whether a fitted cost grows beyond what is expected, by enough to matter."""
    if slope is None or slope <= expected + GROWTH_TOLERANCE:
        return False
    return last >= material and last > 2 * first * x_ratio ** expected


def curve(op: Operation, steps: Sequence[dict[str, Any]],
          rule_samples: Sequence[tuple[int, float]] = ()) -> dict[str, Any]:
    """An operation's curve over the steps: exponent of p50 (less the step's harness floor)
    against N, and the verdict on it.

    `rule_samples` (update_access at the largest step) are (rules on the share, seconds) pairs;
    their exponent says whether the driver slows down with long rule lists.
    """
    # The harness's own latency at each step (a no-op call on a worker) is not the driver's.
    points = [(s["shares"], max(s["operations"][op.name]["p50"] - s.get("floor_seconds", 0.0), 1e-6))
              for s in steps if "p50" in s["operations"].get(op.name, {})]
    slope = exponent([n for n, _ in points], [p for _, p in points])
    result: dict[str, Any] = {"exponent": slope, "expected_exponent": op.expected_exponent,
                              "points": len(points), "grows_with_n": False}
    if points:
        (n0, first), (n1, last) = points[0], points[-1]
        result["grows_with_n"] = grows(slope, op.expected_exponent, first, last, n1 / n0)
        if result["grows_with_n"]:
            result["finding"] = (f"{op.title}: cost grows with N (exponent {slope:.2f}, expected "
                                 f"{op.expected_exponent:g}): p50 {_ms(first)} at N={n0:,} -> "
                                 f"{_ms(last)} at N={n1:,}")
    result.update(_tail_curve(op, steps))
    if result["tail_grows_with_n"] and "finding" not in result:
        result["finding"] = result.pop("_tail_finding")
    result.pop("_tail_finding", None)
    if op.name.startswith("update_access"):
        rules, finding = _rules_curve(op, rule_samples)
        result.update(rules)
        if finding and "finding" not in result:
            result["finding"] = finding
    return result


def _tail_curve(op: Operation, steps: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The same judgement on p95: medians can stay flat while calls queue behind one another."""
    points = [(s["shares"], s["operations"][op.name]["p95"]) for s in steps
              if "p95" in s["operations"].get(op.name, {})]
    slope = exponent([n for n, _ in points], [p for _, p in points])
    out: dict[str, Any] = {"tail_exponent": slope, "tail_grows_with_n": False}
    if points:
        (n0, first), (n1, last) = points[0], points[-1]
        out["tail_grows_with_n"] = grows(slope, op.expected_exponent, first, last, n1 / n0,
                                         TAIL_MATERIAL_SECONDS)
        if out["tail_grows_with_n"]:
            out["_tail_finding"] = (f"{op.title}: tail latency grows with N (p95 exponent "
                                    f"{slope:.2f}): p95 {_ms(first)} at N={n0:,} -> {_ms(last)} "
                                    f"at N={n1:,}")
    return out


def _rules_curve(op: Operation, samples: Sequence[tuple[int, float]]) -> tuple[dict[str, Any], str]:
    if len(samples) < MIN_RULE_POINTS:
        return {"rules_exponent": None, "grows_with_rules": False}, ""
    by_count = sorted(samples)
    slope = exponent([k for k, _ in by_count], [s for _, s in by_count])
    tenth = max(len(by_count) // 10, 1)
    few = float(numpy.median([s for _, s in by_count[:tenth]]))
    many = float(numpy.median([s for _, s in by_count[-tenth:]]))
    grows_ = grows(slope, 0.0, few, many, 1.0)
    finding = (f"{op.title}: cost grows with the rules on the share (exponent {slope:.2f}): "
               f"median {_ms(few)} with {by_count[tenth - 1][0]} rules or fewer -> {_ms(many)} "
               f"with {by_count[-tenth][0]} or more") if grows_ else ""
    return {"rules_exponent": slope, "grows_with_rules": grows_}, finding


def verified_shares(steps: Sequence[dict[str, Any]]) -> int:
    """The largest step reached with zero errors at it and at every step below it."""
    verified = 0
    for step in steps:
        if step["errors"]:
            break
        verified = step["shares"]
    return verified


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3g} ms"
