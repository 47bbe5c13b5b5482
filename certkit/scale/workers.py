"""Run a function over items on a few daemon threads, each call under its own deadline.

A thread per call (certkit.deadlines) or a hand-off per call costs more than a dummy
driver's whole call at 10,000 shares; here each worker takes the next item itself. A call past
its deadline is abandoned with its thread (a replacement takes over), so a hanging driver never
blocks the run or the interpreter's exit.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterable

POLL_SECONDS = 0.5
_END = object()


def run_all(func: Callable[[Any], Any], items: Iterable[Any], *, workers: int, deadline: float,
            stop: threading.Event | None = None,
            on_timeout: Callable[[Any], None] | None = None) -> list[Any]:
    """func(item) for every item, `workers` at a time; the values of the calls that returned.

    `func` must not raise. On `stop`, no new item is taken and the calls in flight finish. A
    call running longer than `deadline` seconds is reported to `on_timeout(item)` and left
    behind.
    """
    source = iter(items)
    lock = threading.Lock()
    results: list[Any] = []
    running: dict[int, tuple[float, Any]] = {}
    abandoned: set[int] = set()
    live = [0]
    finished = threading.Event()

    def take() -> Any:
        with lock:
            return _END if stop is not None and stop.is_set() else next(source, _END)

    def work(slot: int) -> None:
        try:
            while (item := take()) is not _END:
                with lock:
                    running[slot] = (time.monotonic(), item)
                value = func(item)
                with lock:
                    if slot in abandoned:
                        return
                    del running[slot]
                    results.append(value)
        finally:
            with lock:
                if slot not in abandoned:
                    live[0] -= 1
                    if not live[0]:
                        finished.set()

    slots = iter(range(1 << 30))

    def spawn() -> None:  # called with the lock held
        live[0] += 1
        threading.Thread(target=work, args=(next(slots),), name="certkit-scale", daemon=True).start()

    with lock:
        for _ in range(max(workers, 1)):
            spawn()
    while not finished.wait(POLL_SECONDS):
        now = time.monotonic()
        with lock:
            overdue = [(slot, item) for slot, (began, item) in running.items() if now - began > deadline]
            for slot, _ in overdue:
                del running[slot]
                abandoned.add(slot)
                live[0] -= 1
                spawn()
        for _, item in overdue:
            if on_timeout:
                on_timeout(item)
    return results
