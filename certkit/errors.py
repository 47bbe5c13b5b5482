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
