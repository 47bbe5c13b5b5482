"""The resource ledger: everything a run creates on the back end is recorded before it is created
and deleted at the end of the run, newest first, also after a failure or Ctrl-C.

The ledger never lists the back end: it deletes only what it recorded (vendors run certkit on
shared arrays).
"""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable

from certkit.harness.timeouts import CallTimeout, call_with_timeout


@dataclass
class Entry:
    """One back-end object the run created (or was about to create)."""

    kind: str
    """share, snapshot, replica, share_group, share_group_snapshot, share_server, backup..."""
    id: str
    name: str
    delete: Callable[[], object]
    released: bool = False


@dataclass(frozen=True)
class Leak:
    """An object the run could not delete."""

    kind: str
    id: str
    name: str
    error: str


@dataclass
class ResourceLedger:
    """Records created objects and deletes what is left of them at the end of the run."""

    timeout: float = 30.0
    workers: int = 1
    """Deletes in flight at once over consecutive shares (or snapshots): clean-up at scale."""
    entries: list[Entry] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def track(self, kind: str, obj_id: str, name: str, delete: Callable[[], object]) -> Entry:
        """Record an object *before* asking the back end to create it."""
        entry = Entry(kind, obj_id, name, delete)
        with self._lock:
            self.entries.append(entry)
        return entry

    def release(self, entry: Entry) -> None:
        """The check deleted the object itself: nothing left to clean up."""
        entry.released = True

    def outstanding(self) -> list[Entry]:
        """Objects still to delete, newest first."""
        with self._lock:
            return [e for e in reversed(self.entries) if not e.released]

    def cleanup(self, progress: Callable[[str], None] | None = None,
                only: Callable[[Entry], bool] | None = None) -> list[Leak]:
        """Delete outstanding objects (all, or those `only` selects), newest first; return the
        leaks so far (objects that could not be deleted).

        A delete that fails is retried in later passes until `timeout` seconds have gone by:
        real back ends refuse to delete a snapshot while a clone from it is still copying, or a
        share while it still has snapshots, and both clear up by themselves.
        """
        pending = [e for e in self.outstanding() if only is None or only(e)]
        deadline = time.monotonic() + self.timeout
        errors: dict[int, str] = {}
        attempt = 0
        try:
            if self.workers > 1:
                pending = self._delete_in_parallel(pending, deadline, errors, progress)
            while pending:
                attempt += 1
                failed = []
                for entry in pending:
                    if progress:
                        progress(f"cleanup: {entry.kind} {entry.name}"
                                 + (f" (attempt {attempt})" if attempt > 1 else ""))
                    remaining = max(deadline - time.monotonic(), 0.1)
                    try:
                        call_with_timeout(entry.delete, remaining, f"delete {entry.kind} {entry.name}")
                    except KeyboardInterrupt:
                        raise
                    except CallTimeout as exc:
                        errors[id(entry)] = f"{type(exc).__name__}: {_one_line(exc)}"
                        self._leak(entry, errors[id(entry)])
                    except Exception as exc:  # noqa: BLE001 - retried, then reported as a leak
                        errors[id(entry)] = f"{type(exc).__name__}: {_one_line(exc)}"
                        failed.append(entry)
                    else:
                        entry.released = True
                pending = failed
                if pending and time.monotonic() + 1.0 < deadline:
                    time.sleep(1.0)
                elif pending:
                    break
        except KeyboardInterrupt:
            for rest in self.outstanding():
                if only is None or only(rest):
                    self._leak(rest, "cleanup interrupted")
            return list(self.leaks)
        for entry in pending:
            self._leak(entry, errors.get(id(entry), "not deleted"))
        return list(self.leaks)

    def _delete_in_parallel(self, pending: list[Entry], deadline: float, errors: dict[int, str],
                            progress: Callable[[str], None] | None) -> list[Entry]:
        """First pass: each run of consecutive independent objects of one kind (shares, or
        snapshots) deleted `workers` at a time; what failed is left for the serial passes."""
        left: list[Entry] = []
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="certkit-cleanup")
        try:
            for kind, run in itertools.groupby(pending, key=lambda e: e.kind):
                batch = list(run)
                if kind not in PARALLEL_KINDS or len(batch) < 2:
                    left += batch
                    continue
                if progress:
                    progress(f"cleanup: {len(batch)} {kind}s, {self.workers} at a time")
                futures = {pool.submit(_delete_before, e, deadline): e for e in batch}
                failed: set[int] = set()
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in done:
                        entry = futures.pop(future)
                        exc = future.exception()
                        if exc is None:
                            entry.released = True
                            continue
                        errors[id(entry)] = f"{type(exc).__name__}: {_one_line(exc)}"
                        if isinstance(exc, CallTimeout):
                            self._leak(entry, errors[id(entry)])
                        else:
                            failed.add(id(entry))
                left += [e for e in batch if id(e) in failed]
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return left

    def _leak(self, entry: Entry, error: str) -> None:
        entry.released = True
        self.leaks.append(Leak(entry.kind, entry.id, entry.name, error))


def _delete_before(entry: Entry, deadline: float) -> object:
    """Delete with what is left of the clean-up time when the call starts (queued deletes
    must not each get the whole budget)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise CallTimeout(f"delete {entry.kind} {entry.name} (clean-up time used up)", 0)
    return call_with_timeout(entry.delete, remaining, f"delete {entry.kind} {entry.name}")


PARALLEL_KINDS = frozenset({"share", "snapshot"})
"""Kinds whose consecutive entries do not depend on one another (rules of one share do)."""


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
