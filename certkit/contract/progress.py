"""Progress lines from inside a suite's fixtures (scale and exploration runs take minutes)."""

from __future__ import annotations

from typing import Callable

import pytest


def live_progress(request: pytest.FixtureRequest, progress: Callable[[str], None] | None
                  ) -> Callable[[str], None] | None:
    """The run's progress callback, past pytest's output capture."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if progress is None or capture is None:
        return progress

    def say(line: str) -> None:
        with capture.global_and_fixture_disabled():
            progress(line)

    return say
