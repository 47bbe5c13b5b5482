"""Run a callable under a deadline: a hanging driver becomes an error, not a hung run."""

from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class CallTimeout(Exception):
    """A call did not return within its deadline (the thread is abandoned, as a daemon)."""

    def __init__(self, what: str, seconds: float) -> None:
        self.what = what
        self.seconds = seconds
        super().__init__(f"{what} did not return within {seconds:.3g} s")


def call_with_timeout(func: Callable[..., T], seconds: float | None, what: str,
                      *args: Any, **kwargs: Any) -> T:
    """Call `func(*args, **kwargs)`; raise CallTimeout after `seconds` (None: no deadline).

    The call runs in a daemon thread so that a driver stuck in I/O cannot keep the process
    alive; its exception, if any, is re-raised here with its traceback.
    """
    if not seconds:
        return func(*args, **kwargs)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = func(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"certkit:{what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise CallTimeout(what, seconds)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def with_deadline(func: Callable[..., T], seconds: float | None, what: str) -> Callable[..., T]:
    """`func` wrapped so that each call runs under `call_with_timeout` (same name and signature)."""
    import functools

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> T:
        return call_with_timeout(func, seconds, what, *args, **kwargs)

    return bounded


def call_with_alarm(func: Callable[..., T], seconds: float | None, what: str,
                    *args: Any, **kwargs: Any) -> T:
    """Like call_with_timeout, but in the calling thread, interrupted by SIGALRM.

    For imports: a module that monkey-patches threading (eventlet) while being imported in a
    helper thread leaves that thread unjoinable. Off the main thread, falls back to a thread.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        return call_with_timeout(func, seconds, what, *args, **kwargs)
    import signal

    def expired(signum: int, frame: Any) -> None:
        raise CallTimeout(what, seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return func(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
