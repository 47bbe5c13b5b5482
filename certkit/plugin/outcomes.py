"""Outcome classification: what a phase's exception means for a check (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pytest

from certkit.errors import exception_text
from certkit.text import one_line as shorten
from certkit.harness.driver import raised_by
from certkit.deadlines import CallTimeout
from certkit.session import DriverUnavailable

MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class PhaseOutcome:
    """How one phase (setup, call, teardown) of a check ended."""

    outcome: str
    """passed, failed, skipped or error."""
    message: str = ""
    hung: bool = False
    """A call was still running after its timeout: the run stops."""


PASSED = PhaseOutcome("passed")


def classify(exc: BaseException | None) -> PhaseOutcome:
    """The outcome of a phase that raised `exc` (None: it passed)."""
    if exc is None:
        return PASSED
    if isinstance(exc, pytest.skip.Exception):
        return PhaseOutcome("skipped", describe_skip(exc))
    if isinstance(exc, CallTimeout):
        return PhaseOutcome("error", exception_text(exc), hung=True)
    if isinstance(exc, DriverUnavailable):
        return PhaseOutcome("error", exception_text(exc))
    method = raised_by(exc)
    if method is not None:
        kind = "" if is_manila_exception(exc) else (
            " (not a manila.exception type: the share manager cannot handle it)")
        return PhaseOutcome("failed", f"driver.{method} raised {type(exc).__name__}{kind}: {exception_text(exc)}")
    if isinstance(exc, AssertionError):
        return PhaseOutcome("failed", exception_text(exc) or "assertion failed")
    return PhaseOutcome("error", f"{type(exc).__name__}: {exception_text(exc)} (in the check or harness, "
                                 "not the driver)")


def describe_skip(exc: BaseException) -> str:
    """The reason of a pytest.skip()."""
    return str(getattr(exc, "msg", "") or exception_text(exc))


def skip_marker_reason(longrepr: Any) -> str:
    """The reason of a check skipped by a marker (longrepr is (file, line, reason))."""
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def is_manila_exception(exc: BaseException) -> bool:
    """Whether the share manager knows how to handle this exception type."""
    from manila import exception

    return isinstance(exc, (exception.ManilaException, NotImplementedError))


def final_outcome(phases: Mapping[str, PhaseOutcome]) -> PhaseOutcome:
    """A check's outcome from its phases: set-up problems first, then the body, then teardown."""
    setup = phases.get("setup", PASSED)
    if setup.outcome != "passed":
        return setup
    call = phases.get("call", PASSED)
    teardown = phases.get("teardown", PASSED)
    if call.outcome == "passed" and teardown.outcome not in ("passed", "skipped"):
        return PhaseOutcome("error", f"teardown: {teardown.message}", teardown.hung)
    return call


def one_line(text: str) -> str:
    """One line; a long message keeps its start and its end (where the cause usually is)."""
    return shorten(text, MESSAGE_LIMIT, keep_end=True)
