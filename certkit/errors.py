"""Errors certkit reports to a person as one line, never as a traceback."""

from __future__ import annotations


class CertkitError(Exception):
    """An error with a one-line message meant for the user; exit status 2."""

    exit_status = 2


class ProfileError(CertkitError):
    """A driver profile is unusable: names the file, the field and what is wrong."""

    def __init__(self, path: str, field: str, problem: str) -> None:
        self.path = path
        self.field = field or "(top level)"
        self.problem = problem
        super().__init__(f"{path}: {self.field}: {problem}")


class DriverLoadError(CertkitError):
    """The driver class named by a profile cannot be imported or instantiated."""


def exception_text(exc: BaseException) -> str:
    """str(exc), even for a driver exception whose __str__ raises or returns a non-string."""
    try:
        text = str(exc)
        if not isinstance(text, str):
            raise TypeError(f"__str__ returned {type(text).__name__}")
        return text
    except Exception as err:  # noqa: BLE001 - a hostile exception must not crash the run
        return f"<{type(exc).__name__} whose str() raised {type(err).__name__}>"
