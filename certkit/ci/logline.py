"""Values from Gerrit in one log line: a hostile subject must not forge or split log lines."""

from __future__ import annotations

from typing import Any


def oneline(text: Any, limit: int = 120) -> str:
    """A value safe for a one-line log entry (newlines and controls escaped, truncated)."""
    shown = repr(str(text))[1:-1]
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."
