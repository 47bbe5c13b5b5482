"""What a contract check is: a pytest test with a permanent UUID, a feature and a level, and the
assertions checks share (schemas, Manila exception types)."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import pytest

from certkit.catalogue import FEATURES_BY_ID
from certkit.schema_check import schema_errors
from certkit.text import one_line

F = TypeVar("F", bound=Callable[..., Any])
LEVELS = ("required", "recommended")
MARK = "certkit_check"


class ContractViolation(AssertionError):
    """The driver broke Manila's contract; the message says what was expected and what came back."""


@dataclass(frozen=True)
class CheckInfo:
    """The permanent identity of a check."""

    id: str
    feature: str
    level: str = "required"
    timeout: float | None = None
    """Lowers, never raises, the user's per-check timeout."""


def check(check_id: str, feature: str, level: str = "required",
          timeout: float | None = None) -> Callable[[F], F]:
    """Mark a test as a contract check: `@check("<uuid>", "snapshot")`.

    The feature may name a parameter, e.g. `"access_{access_type}"`, resolved per variant.

    The UUID is the check's identity for life (tempest's idempotent_id): never change it when
    renaming the test; a new check gets a new UUID.
    """
    try:
        canonical = str(uuidlib.UUID(check_id)) == check_id
    except ValueError:
        canonical = False
    if not canonical:
        raise ValueError(f"check id {check_id!r} is not a canonical lower-case UUID")
    if "{" not in feature and feature not in FEATURES_BY_ID:
        raise ValueError(f"check {check_id}: unknown feature {feature!r}")
    if level not in LEVELS:
        raise ValueError(f"check {check_id}: level must be one of {LEVELS}, not {level!r}")
    return getattr(pytest.mark, MARK)(CheckInfo(check_id, feature, level, timeout))


PER_TEST_MARK = "certkit_checks_per_test"


def checks_per_test(func: F) -> F:
    """Mark a test that stands for many checks, one per outside test it reports (manila-tempest-
    plugin's tests): the plugin parametrises it and gives each variant its own `@check`, keyed by
    that test's own idempotent id."""
    return getattr(pytest.mark, PER_TEST_MARK)(func)


def check_info(item: pytest.Item) -> CheckInfo | None:
    """The CheckInfo of a collected test, if it is a check."""
    marker = item.get_closest_marker(MARK)
    return marker.args[0] if marker else None


def expect_schema(value: Any, schema: str, what: str) -> None:
    """Fail with the schema name and the JSON path when `value` does not match `schema`."""
    problems = schema_errors(value, schema, root=what)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ContractViolation(f"{problems[0]}{more}")


def manila_exception_types() -> tuple[type, ...]:
    """Manila's exception base classes (what the share manager knows how to handle)."""
    from manila import exception

    return (exception.ManilaException,)


def expect_manila_exception(call: Callable[[], Any], what: str,
                            refused: Callable[[Any], bool] | None = None) -> BaseException | None:
    """Call; the driver must refuse with a manila.exception type, not succeed or raise bare Python.

    `refused(result)` accepts a return value that itself reports the refusal (e.g. an access
    rule in state 'error').
    """
    try:
        result = call()
    except ContractViolation:
        raise
    except manila_exception_types() as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a bare Python exception is the violation we report
        raise ContractViolation(
            f"{what}: raised {type(exc).__module__}.{type(exc).__name__} ({one_line(exc, 200)}); "
            "expected a manila.exception.ManilaException subclass") from None
    if refused is not None and refused(result):
        return None
    raise ContractViolation(f"{what}: was accepted (returned {one_line(repr(result), 200)}); "
                            "expected a manila.exception error")


def expect(condition: bool, message: str) -> None:
    """Fail the check with `message` unless `condition` holds."""
    if not condition:
        raise ContractViolation(message)

