"""Time the server can trust: bounds on the times a client sends, and ages shown on pages.

A report, audit or CI vote carries its own time (started_at, generated_at, seen_at). The server
**refuses** (422, naming the field) a time later than the moment it received the body plus
`CLOCK_SKEW`, or earlier than `MANILA_EPOCH`; it never clamps, so a stored time is always the
client's own and never later than its receipt. Which run is "latest" never depends on these
times: it is the latest *received* (runs.received_at, the server's clock), so one report cannot
pin a back end's status by a date. Ages count from a run's start, which these bounds keep at or
before the moment the server received it: an age is never younger than the evidence.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from certkit.dashboard.db import as_utc, utcnow

MANILA_EPOCH = datetime(2013, 8, 1, tzinfo=timezone.utc)
"""Manila's repository began in August 2013 (split from Cinder): no report can predate it."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the server's clock a client's clock may run (NTP-synchronised CI machines
are within milliseconds; five minutes forgives a badly set one without admitting the future)."""


def time_problem(value: datetime, field: str, received: datetime | None = None) -> str | None:
    """Why a client's time is refused (None: accepted), naming the field and the bound."""
    received = received or utcnow()
    if value > received + CLOCK_SKEW:
        return (f"{field} {iso(value)} is in the future: the server received this at "
                f"{iso(received)} (clock skew allowed: {int(CLOCK_SKEW.total_seconds() // 60)} min)")
    if value < MANILA_EPOCH:
        return f"{field} {iso(value)} is before Manila existed ({iso(MANILA_EPOCH)})"
    return None


def age(then: datetime | None, now: datetime | None = None) -> str:
    """A short human age: <1m, 3m, 5h, 2d."""
    if then is None:
        return ""
    seconds = max(0, ((now or utcnow()) - as_utc(then)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "<1m"


def iso(value: datetime | None) -> str | None:
    """An aware UTC time as RFC 3339, to the second."""
    return as_utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z") \
        if value else None
