"""What "healthy" means: the five states of a back end and of a check, and their thresholds.

Every page that says passing, flaky, failing, stale or never reported takes it from here, so the
summary, the matrix, the JSON twins and the docs (docs/dashboard/states.md) agree.

A back end's state comes from its runs in the order the server *received* them (a report cannot
pin its back end's status by claiming a late start time):

- never-reported: the dashboard knows the back end (profile, audit) but has received no run.
- stale: the newest received run started longer ago than `Rules.missing_days` (default 7):
  whatever it said, nobody re-checked it since. Shown greyed, with its verdict and age. (A run's
  start time is the report's own, which the server refuses when later than its receipt: see
  clock.py; so an age is never younger than the evidence.)
- failing: the newest received run is not certified (a failed check, or a partial run, which
  never certifies).
- flaky: the newest received run is certified, but the verdict flipped (certified <-> not)
  at least `FLAKY_FLIPS` times within the last `FLIP_WINDOW` runs (TestGrid's definition: flips
  within a window). One regression is one flip: it is *failing*, never flaky; its fix is a second
  flip, so a back end that just recovered shows flaky until the window forgets the regression.
- passing: the newest received run is certified and the window holds fewer flips than that.

A suite-scoped run (verdict `passed` or `failed`, e.g. a scale-only run) is no certification: a
scoped pass is left out of the verdicts above (it neither certifies nor breaks a certification),
a scoped failure counts as not certified. A back end whose runs are all scoped passes is failing:
nothing certified it.

A check is flaky by the same rule over its outcomes in the back end's last `FLAKY_CHECK_WINDOW`
runs (skipped and not-run outcomes are ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

FLIP_WINDOW = 10
"""Runs (newest received first) in which a back end's verdict flips are counted."""
FLAKY_FLIPS = 2
"""Flips within the window that make a back end or a check flaky (1 flip is a regression)."""
FLAKY_CHECK_WINDOW = 50
"""Runs of a back end in which each check's outcome flips are counted (the back-end page)."""

STATES: dict[str, tuple[str, str]] = {
    # state: (symbol, meaning); worst first, the summary's default order.
    "failing": ("\u2718", "the newest received run is not certified"),
    "flaky": ("\u223c", f"certified now, but the verdict flipped {FLAKY_FLIPS}+ times in the "
                        f"last {FLIP_WINDOW} runs"),
    "stale": ("\u25d4", "no run received for longer than the stale threshold"),
    "never-reported": ("\u2205", "known to the dashboard, but no run was ever received"),
    "passing": ("\u2714", "the newest received run is certified, and steadily so"),
}
STATE_ORDER = {state: i for i, state in enumerate(STATES)}


@dataclass(frozen=True)
class Rules:
    """Thresholds in days: stale / missing, and when a back end counts as unmaintained (Cinder's
    unsupported-driver policy)."""

    warn_days: int = 14
    deprecate_days: int = 60
    missing_days: int = 7
    """No run received for this long: the back end is stale (the summary) and its CI account's
    report is missing (CI health); a profiled back end never reported gets as long from
    registration before it counts as missing."""


DEFAULT_RULES = Rules()
"""The thresholds when the server is given none (the CLI's defaults)."""


def flips(passed: Sequence[bool]) -> int:
    """Changes between consecutive results: [T, F, F, T] -> 2."""
    return sum(1 for a, b in zip(passed, passed[1:]) if a != b)


def backend_state(verdicts: Sequence[str], newest_started: datetime | None, now: datetime,
                  rules: Rules = DEFAULT_RULES) -> str:
    """A back end's state from its verdicts, newest received first (at most FLIP_WINDOW used),
    and the start time of the newest received run."""
    if not verdicts or newest_started is None:
        return "never-reported"
    # A suite-scoped pass (e.g. a scale-only run) says nothing about the certification; a scoped
    # failure does (certkit/verdict.py: "passed"/"failed" carry a scope).
    verdicts = [v for v in verdicts if v != "passed"] or ["passed"]
    if now - newest_started > timedelta(days=rules.missing_days):
        return "stale"
    if verdicts[0] != "certified":
        return "failing"
    window = [v == "certified" for v in verdicts[:FLIP_WINDOW]]
    return "flaky" if flips(window) >= FLAKY_FLIPS else "passing"


def check_is_flaky(passed: Sequence[bool]) -> bool:
    """A check's outcomes in order (skips left out): flaky when it flipped FLAKY_FLIPS+ times."""
    return flips(passed) >= FLAKY_FLIPS
