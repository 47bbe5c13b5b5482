"""Daemon worker threads that run driver calls, each under its own deadline.

A thread per call (certkit.harness.timeouts) costs more than a dummy driver's whole call at
10,000 shares; these workers are reused. A call past its deadline is abandoned with its thread
(a replacement starts), so a hanging driver never blocks the run or the interpreter's exit.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, Callable

POLL_SECONDS = 1.0


class TimedOut(Exception):
    """A call did not return within its deadline."""


class DeadlineWorkers:
    """`size` reusable daemon threads; `run_all` keeps at most `size` calls in flight."""

    def __init__(self, size: int, deadline: float) -> None:
        self.size = size
        self.deadline = deadline
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._started: dict[Future, float] = {}
        self._lock = threading.Lock()
        for _ in range(size):
            self._spawn()

    def _spawn(self) -> None:
        threading.Thread(target=self._work, name="certkit-scale", daemon=True).start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, func, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            with self._lock:
                self._started[future] = time.monotonic()
            try:
                future.set_result(func(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(exc)

    def submit(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        self._queue.put((future, func, args, kwargs))
        return future

    def call(self, func: Callable[..., Any], *args: Any, deadline: float | None = None,
             **kwargs: Any) -> Any:
        """One call on a worker; TimedOut past the deadline."""
        future = self.submit(func, *args, **kwargs)
        done, _ = self.wait_some({future}, deadline)
        if future not in done:
            raise TimedOut(f"did not return within {deadline or self.deadline:g} s")
        return future.result()

    def wait_some(self, in_flight: set[Future], deadline: float | None = None
                  ) -> tuple[set[Future], set[Future]]:
        """(done, still running); a call past its deadline is dropped from both (abandoned,
        with a new worker in its place) and its future is cancelled-looking: `TimedOut`."""
        limit = deadline or self.deadline
        while True:
            done, rest = wait(in_flight, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            now = time.monotonic()
            with self._lock:
                for future in done:
                    self._started.pop(future, None)
                overdue = {f for f in rest if now - self._started.get(f, now) > limit}
                for future in overdue:
                    self._started.pop(future, None)
            for future in overdue:
                self._spawn()
                rest.discard(future)
                abandoned: Future = Future()
                abandoned.set_exception(TimedOut(f"did not return within {limit:g} s"))
                done.add(abandoned)
            if done:
                return done, rest
            in_flight = rest

    def close(self) -> None:
        """Let idle workers exit (a stuck one stays, as a daemon)."""
        for _ in range(self.size):
            self._queue.put(None)
