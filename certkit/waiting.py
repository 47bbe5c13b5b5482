"""The one waiter: call a probe until a condition holds or a timeout passes (as tempest's
waiters do), with a message that says what was awaited and what was last seen."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from certkit.text import one_line

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """The awaited condition did not hold in time."""


def poll_until(probe: Callable[[], T], done: Callable[[T], bool], *, timeout: float, what: str,
               interval: float = 0.05, max_interval: float = 2.0,
               error: type[Exception] = WaitTimeout) -> T:
    """Call `probe()` until `done(value)`; return that value.

    The probe is called at least once, then again after `interval` seconds (doubling up to
    `max_interval`) while the deadline allows. The probe and `done` may raise to stop early
    (e.g. an error state). On timeout raises `error` naming `what` and the last value seen.
    """
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        value = probe()
        if done(value):
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise error(f"timed out after {timeout:g} s waiting for {what}; "
                        f"last seen: {one_line(repr(value), 200)}")
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, max_interval)
