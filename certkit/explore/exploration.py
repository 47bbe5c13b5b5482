"""Running an exploration under a time budget, and replaying a step list.

Hypothesis draws and shrinks; this module gives it a budget (examples run in seeded chunks until
the seconds are spent), an example database under the report's directory, progress lines, and
turns a failure into a `Counterexample`: the shrunk step list, printed and saved as a replay file.
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from certkit.explore.executor import Executor, describe
from certkit.explore.machine import BudgetSpent, Claims, Stats, build_machine
from certkit.explore.options import ExploreOptions
from certkit.explore.steps import Step, features_of, step_list, write_replay

GENERATION = 20
"""Examples per Hypothesis run. A long exploration is a series of runs of this many examples,
each seeded from the exploration's seed and its number, so the same seed still draws the same
sequences and memory stays flat (Hypothesis keeps a tree of every choice of a run). Few, because
Hypothesis extends the first tenth of a run's examples (up to 50) with the simplest choices at
every step, which repeat one rule (FairRules' index 0) to the end of the sequence: at 500 a run,
that was most of a 300 s exploration on the Ceph lab (about 35 sequences). Model-only, the first
35 sequences of seeds 1-4 at 20 steps: 2 of 140 wrote, snapshotted and cloned at 500 a run, 8 at
20 (benchmarks/explore_fairness.py --mix)."""
PROGRESS_EVERY = 10.0
SHRINK_SHARE = 0.5
"""Shrinking a failure may go on for this share of the budget after it was found, past the
budget if need be: a run takes at most 1.5 budgets (plus the step that found it and the one under
way), and a failure found
in the budget's last second is still shrunk. Where shrinking runs out of time, the shortest
failing sequence seen is reported (and said to be not fully shrunk)."""


@dataclass
class Counterexample:
    """A divergence, shrunk by Hypothesis: the minimal steps and what went wrong."""

    steps: list[Step]
    failure: str
    error: BaseException
    divergence: bool
    """False: the harness (not the driver) failed, e.g. the client host went away."""
    replay_file: str | None = None

    @property
    def features(self) -> set[str]:
        return features_of(self.steps)

    def to_report(self) -> dict[str, Any]:
        return {"failure": self.failure, "divergence": self.divergence,
                "features": sorted(self.features), "steps": [s.to_json() for s in self.steps],
                "replay_file": self.replay_file}


@dataclass
class ExplorationResult:
    """What an exploration did and found (the report's `explore` section)."""

    seed: int
    options: ExploreOptions
    stats: Stats
    elapsed: float
    data_path: bool
    counterexample: Counterexample | None = None
    notes: list[str] = field(default_factory=list)
    exercised: set[str] = field(default_factory=set)
    """Features at least one step applied to the driver exercised."""

    def to_report(self) -> dict[str, Any]:
        steps, elapsed = self.stats.steps, max(self.elapsed, 1e-9)
        return {
            "seed": self.seed, "budget_seconds": self.options.budget,
            "steps_per_example": self.options.steps, "elapsed_seconds": round(self.elapsed, 3),
            "examples": self.stats.examples, "steps": steps,
            "steps_per_second": round(steps / elapsed, 2),
            "distinct_states": len(self.stats.states), "rules": dict(sorted(self.stats.rules.items())),
            "features_exercised": sorted(self.exercised), "data_path": self.data_path,
            "notes": list(self.notes),
            "database": str(_db_dir(self.options)) if self.options.directory else None,
            "counterexample": self.counterexample.to_report() if self.counterexample else None,
        }


def _db_dir(options: ExploreOptions) -> Path:
    return Path(options.directory or ".") / "explore-db"


def explore(claims: Claims, new_executor: Callable[[], Executor], options: ExploreOptions, *,
            progress: Callable[[str], None] | None = None, profile: str = "", driver: str = "",
            is_divergence: Callable[[BaseException], bool] = lambda e: isinstance(e, AssertionError),
            ) -> ExplorationResult:
    """Explore until the budget is spent or a divergence is found (and shrunk)."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.database import DirectoryBasedExampleDatabase
    from hypothesis.errors import Flaky
    from hypothesis.stateful import run_state_machine_as_test

    master = options.chosen_seed()
    stats = Stats(shrink_seconds=options.budget * SHRINK_SHARE)
    start = time.monotonic()
    deadline = start + options.budget
    database = DirectoryBasedExampleDatabase(str(_db_dir(options))) if options.directory else None
    exercised: set[str] = set()

    def counted_executor() -> Executor:
        ex = new_executor()
        _report_progress()
        original = ex.apply

        def apply(step: Step) -> None:
            original(step)
            exercised.update(step.features())

        ex.apply = apply  # type: ignore[method-assign]
        return ex

    last_line = [start]

    def _report_progress() -> None:
        now = time.monotonic()
        if progress and now - last_line[0] >= PROGRESS_EVERY:
            last_line[0] = now
            progress(f"explore: {stats.examples} examples, {stats.steps} steps, "
                     f"{len(stats.states)} states, {now - start:.0f} s of {options.budget:g} s")

    machine = build_machine(claims, counted_executor, stats, deadline)
    found: Counterexample | None = None
    generation = 0
    left = options.examples
    while found is None and (left is None or left > 0):
        size = GENERATION if left is None else min(GENERATION, left)
        config = settings(max_examples=size, stateful_step_count=options.steps, deadline=None,
                          database=database, suppress_health_check=list(HealthCheck),
                          report_multiple_bugs=False, print_blob=False,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
        hypothesis_seed(master + generation)(machine)
        generation += 1
        if left is not None:
            left -= size
        try:
            with _quiet_hypothesis():
                run_state_machine_as_test(machine, settings=config)
        except BudgetSpent:
            if stats.failing and stats.shortest_failure is not None:
                steps, error = stats.shortest_failure
                found = _counterexample(stats, error, divergence=is_divergence(error), steps=steps)
            break
        except Flaky as exc:
            found = _counterexample(stats, exc, divergence=True, flaky=True)
        except Exception as exc:  # noqa: BLE001 - a divergence (or a harness failure), reported
            found = _counterexample(stats, exc, divergence=is_divergence(exc))
    result = ExplorationResult(master, options, stats, time.monotonic() - start, claims.data_path,
                               found, exercised=exercised)
    if found is not None and options.directory is not None:
        path = Path(options.directory) / "explore-counterexample.json"
        write_replay(path, found.steps, profile=profile, driver=driver, seed=master,
                     failure=found.failure)
        found.replay_file = str(path)
    if progress:
        progress(f"explore: done: {stats.examples} examples, {stats.steps} steps, "
                 f"{len(stats.states)} states in {result.elapsed:.0f} s (seed {master})")
        if found is not None:
            progress(f"explore: counterexample ({len(found.steps)} steps): {found.failure}\n"
                     + step_list(found.steps)
                     + (f"\nexplore: replay with: certkit replay {found.replay_file} --profile "
                        f"{profile or 'PROFILE'}" if found.replay_file else ""))
    return result


@contextlib.contextmanager
def _quiet_hypothesis() -> Iterator[None]:
    """Hypothesis prints its own reproduction (`state = Explorer()`...) to stdout; certkit
    reports the step list instead."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _counterexample(stats: Stats, exc: BaseException, divergence: bool,
                    flaky: bool = False, steps: list[Step] | None = None) -> Counterexample:
    """`steps` given: shrinking ran out of time and these are the shortest that failed."""
    unshrunk = steps is not None
    if steps is None:
        steps = list(stats.last.steps) if stats.last is not None else []
    if flaky and stats.first_failure is not None:  # the steps that failed, not the replay
        steps, exc = stats.first_failure
    failure = describe(exc)
    if steps:
        failure = f"after step {len(steps)} ({steps[-1]}): {failure}"
    if unshrunk:
        failure = f"not fully shrunk (the budget ran out while shrinking): {failure}"
    if flaky:
        failure = f"flaky (the same steps did not fail again, not shrunk): {failure}"
    return Counterexample(steps, failure, exc, divergence)


def replay(steps: list[Step], executor: Executor,
           progress: Callable[[str], None] | None = None) -> tuple[int, BaseException] | None:
    """Run the steps in order, observing after each (and once before the first, as the state
    machine does); the first divergence as (step number, error), or None when all pass. The
    caller cleans up."""
    executor.observe()
    for n, step in enumerate(steps, 1):
        if progress:
            progress(f"replay: {n:>3}. {step}")
        try:
            executor.apply(step)
            executor.observe()
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - the divergence the replay reproduces
            return n, exc
    return None
