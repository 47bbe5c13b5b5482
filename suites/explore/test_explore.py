"""Model-based exploration: random operation sequences against a reference model, drawn by
Hypothesis within the profile's claims, observed after every step, and any divergence shrunk to
a minimal step list (printed, and saved as a replay file for `certkit replay`).

The exploration runs once per run; each check below gives its verdict for one feature: failed
when the counterexample's steps exercised the feature, passed when the feature was exercised
without divergence, skipped (so the feature stays unverified) when no step exercised it.
"""

from __future__ import annotations

from typing import Any, Callable

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
def exploration(request: pytest.FixtureRequest, certkit_run, profile, dut, models) -> ExplorationResult:
    """Explore once for the whole suite (the run's budget, seed and step count)."""
    from manila import context as manila_context

    if explored_access(profile) is None:
        pytest.skip("the profile claims no protocol with an access type: nothing to explore")
    data_path = can_observe_data(profile)
    mounter = request.getfixturevalue("run_mounter") if data_path else None
    options = getattr(certkit_run, "explore_options", None) or ExploreOptions()
    new_executor = executor_factory(certkit_run, dut, manila_context.get_admin_context(), models,
                                    mounter)
    result = explore(claims_of(profile, data_path), new_executor, options,
                     progress=live_progress(request, certkit_run.progress), profile=profile.name,
                     driver=_driver_name(certkit_run), is_divergence=_is_divergence)
    if not data_path:
        result.notes.append(NOT_OBSERVABLE)
    certkit_run.explore = result.to_report()
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


def _feature_check(check_id: str, feature: str) -> Callable[[Any], None]:
    @check(check_id, feature)
    def test(exploration):
        verdict(exploration, feature)

    test.__name__ = test.__qualname__ = f"test_exploration_of_{feature}"
    test.__doc__ = f"Explored sequences that exercise {feature} never diverge from the model."
    return test


CHECKS = {
    "share": "de10591d-94de-4944-a3da-161ca53832e5",
    "access_ro": "d0360ee7-4f1d-439c-8f2e-af139cae58fd",
    "extend": "cd374adb-ec50-4a33-be6c-098375da5482",
    "shrink": "e7efd1f0-549b-4c2c-a050-a79cf02bcee3",
    "snapshot": "6d0faf8d-e2d9-4084-9195-0c479d427e53",
    "create_from_snapshot": "327eda1a-2d5a-4f0a-bfe7-6172ef87b2dd",
    "revert_to_snapshot": "f51c37ad-4870-451f-b101-cdc3ed5fcd27",
    "ensure_shares": "b9492a24-2a04-494a-bf21-b2439e8b8d02",
}
"""The permanent check id of each feature's exploration verdict."""

for _feature, _check_id in CHECKS.items():
    globals()[f"test_exploration_of_{_feature}"] = _feature_check(_check_id, _feature)
