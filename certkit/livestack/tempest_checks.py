"""Glue between tempest's results and the API suite's checks (one module, imported once, so
the stash keys are the same for the suite's test module and its conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

RESULT_KEY = pytest.StashKey[tuple]()
WORKSPACE_KEY = pytest.StashKey[object]()


def known_failures_path() -> Path:
    """suites/api/known_failures.yaml of the installed suites."""
    import suites

    return Path(suites.__file__).parent / "api" / "known_failures.yaml"


def known_failures() -> dict[str, str]:
    """{tempest test id without [..]: reason} from the reviewed file."""
    entries = yaml.safe_load(known_failures_path().read_text()) or []
    return {e["test"]: " ".join(str(e["reason"]).split()) for e in entries}


def attach_results(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the selected tempest tests once; give each item its result and its level."""
    from certkit.contract.checks import MARK, CheckInfo, check_info
    from certkit.livestack.tempest_features import base_name
    from certkit.pytest_plugin import certification_run

    mine = [i for i in items if "tempest_test" in getattr(i, "fixturenames", ())
            and not i.get_closest_marker("skip")]
    if not mine:
        return
    workspace = config.stash[WORKSPACE_KEY]
    run = certification_run(config)
    outcome = workspace.run([i.callspec.params["tempest_test"] for i in mine], progress=run.progress)
    known = known_failures()
    for item, result in zip(mine, outcome.results):
        reason = known.get(base_name(result.test_id))
        message = result.message
        if reason:
            message = f"known environment failure (suites/api/known_failures.yaml): {reason}" + (
                f"; tempest: {message}" if message else "")
        info = check_info(item)
        level = "recommended" if reason or result.outcome == "skipped" else "required"
        item.add_marker(getattr(pytest.mark, MARK)(CheckInfo(info.id, info.feature, level)),
                        append=False)
        item.stash[RESULT_KEY] = (result, message)
