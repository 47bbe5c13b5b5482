"""Shortening text for one-line messages (reports, progress lines, errors)."""

from __future__ import annotations

from certkit.errors import exception_text


def one_line(text: object, limit: int | None = None, *, keep_end: bool = False) -> str:
    """`text` (or `str(obj)`) on one line, whitespace collapsed, at most `limit` characters.

    A cut keeps the start and marks it with `...`; with `keep_end` it keeps the start and the end
    (where a traceback's cause usually is) around ` ... `.
    """
    flat = " ".join(str(text).split())
    if limit is None or len(flat) <= limit:
        return flat
    if keep_end:
        half = (limit - 5) // 2
        return f"{flat[:half]} ... {flat[-half:]}"
    return flat[: max(limit - 3, 0)] + "..."


def error_text(exc: BaseException, limit: int | None = None) -> str:
    """`TypeName: message` of an exception, on one line."""
    return one_line(f"{type(exc).__name__}: {exception_text(exc)}", limit)
