"""Model-based exploration: random operation sequences against a reference model, drawn by
Hypothesis within the profile's claims, observed after every step, and any divergence shrunk to
a minimal step list (printed, and saved as a replay file for `certkit replay`).

The exploration runs once per run; each check below gives its verdict for one feature: failed
when the counterexample's steps exercised the feature, passed when the feature was exercised
without divergence, skipped (so the feature stays unverified) when no step exercised it.
"""

from __future__ import annotations


import pytest

from certkit.contract.checks import ContractViolation, check
from certkit.explore.binding import (NOT_OBSERVABLE, can_observe_data, claims_of, executor_factory,
                                     explored_access)
from certkit.explore.exploration import ExplorationResult, ExploreOptions, explore
from certkit.explore.steps import step_list
from certkit.contract.progress import live_progress


def _is_divergence(exc: BaseException) -> bool:
    """A failed expectation, or a driver call that raised: not the harness failing."""
    from certkit.harness.driver import raised_by

    return isinstance(exc, AssertionError) or raised_by(exc) is not None


@pytest.fixture(scope="module")
def exploration(request: pytest.FixtureRequest, certkit_run, profile) -> ExplorationResult:
    """Explore once for the whole suite (the run's budget, seed, step count and tier)."""
    if explored_access(profile) is None:
        pytest.skip("the profile claims no protocol with an access type: nothing to explore")
    options = getattr(certkit_run, "explore_options", None) or ExploreOptions()
    if options.tier == "api":
        result = _explore_live(request, certkit_run, profile, options)
    else:
        result = _explore_driver(request, certkit_run, profile, options)
    certkit_run.explore = result.to_report()
    return result


def _explore_driver(request, certkit_run, profile, options) -> ExplorationResult:
    """The profile's driver in-process, through Resources (and a client host when it has one)."""
    from manila import context as manila_context

    dut, models = request.getfixturevalue("dut"), request.getfixturevalue("models")
    data_path = can_observe_data(profile)
    mounter = request.getfixturevalue("run_mounter") if data_path else None
    new_executor = executor_factory(certkit_run, dut, manila_context.get_admin_context(), models,
                                    mounter)
    claims = claims_of(profile, data_path, options.max_size, options.max_rules)
    result = explore(claims, new_executor, options,
                     progress=live_progress(request, certkit_run.progress), profile=profile.name,
                     driver=_driver_name(certkit_run), is_divergence=_is_divergence)
    if not data_path:
        result.notes.append(NOT_OBSERVABLE)
    return result


def _explore_live(request, certkit_run, profile, options) -> ExplorationResult:
    """The same rules through Manila's API: the real scheduler and share manager."""
    from certkit.explore.live import NOT_OBSERVABLE_LIVE, LiveSession, is_live_divergence, live_claims

    target = request.getfixturevalue("target")
    session = LiveSession(profile, target, certkit_run.run_id)
    try:
        with session:
            result = explore(live_claims(profile, target, options), session.new_executor,
                             options, progress=live_progress(request, certkit_run.progress),
                             profile=profile.name, driver=f"{profile.driver} via {target.origin}",
                             is_divergence=is_live_divergence)
    finally:
        session.report_leaks(certkit_run)
    result.notes.append(NOT_OBSERVABLE_LIVE)
    return result


def _driver_name(run) -> str:
    cls = run.driver_class
    return f"{cls.__module__}.{cls.__qualname__}" if cls else run.profile.driver


def verdict(result: ExplorationResult, feature: str) -> None:
    """This feature's verdict from the exploration."""
    found = result.counterexample
    if found is not None and not found.divergence:
        raise RuntimeError(f"the exploration stopped on a harness error: {found.failure}")
    if found is not None and feature in found.features:
        where = f"; replay: certkit replay {found.replay_file}" if found.replay_file else ""
        raise ContractViolation(f"exploration diverged from the model after {len(found.steps)} "
                                f"step(s): {found.failure}{where}\n{step_list(found.steps)}")
    if feature not in result.exercised:
        pytest.skip(f"no explored step exercised {feature} (budget {result.options.budget:g} s, "
                    f"{result.stats.steps} steps)")


# One check per feature, each written out so that `certkit checks` reads it from the code.


@check("de10591d-94de-4944-a3da-161ca53832e5", "share")
def test_exploration_of_share(exploration):
    """Explored sequences that exercise share never diverge from the model."""
    verdict(exploration, "share")


@check("d0360ee7-4f1d-439c-8f2e-af139cae58fd", "access_ro")
def test_exploration_of_access_ro(exploration):
    """Explored sequences that exercise access_ro never diverge from the model."""
    verdict(exploration, "access_ro")


@check("cd374adb-ec50-4a33-be6c-098375da5482", "extend")
def test_exploration_of_extend(exploration):
    """Explored sequences that exercise extend never diverge from the model."""
    verdict(exploration, "extend")


@check("e7efd1f0-549b-4c2c-a050-a79cf02bcee3", "shrink")
def test_exploration_of_shrink(exploration):
    """Explored sequences that exercise shrink never diverge from the model."""
    verdict(exploration, "shrink")


@check("6d0faf8d-e2d9-4084-9195-0c479d427e53", "snapshot")
def test_exploration_of_snapshot(exploration):
    """Explored sequences that exercise snapshot never diverge from the model."""
    verdict(exploration, "snapshot")


@check("327eda1a-2d5a-4f0a-bfe7-6172ef87b2dd", "create_from_snapshot")
def test_exploration_of_create_from_snapshot(exploration):
    """Explored sequences that exercise create_from_snapshot never diverge from the model."""
    verdict(exploration, "create_from_snapshot")


@check("f51c37ad-4870-451f-b101-cdc3ed5fcd27", "revert_to_snapshot")
def test_exploration_of_revert_to_snapshot(exploration):
    """Explored sequences that exercise revert_to_snapshot never diverge from the model."""
    verdict(exploration, "revert_to_snapshot")


@check("b9492a24-2a04-494a-bf21-b2439e8b8d02", "ensure_shares")
def test_exploration_of_ensure_shares(exploration):
    """Explored sequences that exercise ensure_shares never diverge from the model."""
    verdict(exploration, "ensure_shares")
