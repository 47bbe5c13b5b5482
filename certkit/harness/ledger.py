"""The resource ledger: everything a run creates on the back end is recorded before it is created
and deleted at the end of the run, newest first, also after a failure, Ctrl-C or SIGTERM.

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

from certkit.deadlines import CallTimeout, call_with_timeout
from certkit.text import error_text

RETRY_PAUSE = 1.0
"""Seconds between two passes over deletes the back end refused."""


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


def is_refusal(exc: BaseException) -> bool:
    """Whether a failed delete is the back end refusing for now ("busy"), worth a retry.

    Only a manila.exception error is a refusal the share manager would retry; a bare Python
    exception or a contract violation (an AssertionError) will fail the same way again.
    """
    if isinstance(exc, AssertionError):
        return False
    from manila import exception

    return isinstance(exc, exception.ManilaException)


@dataclass
class ResourceLedger:
    """Records created objects and deletes what is left of them.

    `timeout` bounds one delete call and one clean-up pass; retries of refused deletes draw on
    one budget of `timeout` seconds for the whole run, so a driver that refuses every delete
    costs that budget once, not once per check. After `stop()`, every clean-up ends by one
    deadline.
    """

    timeout: float = 30.0
    workers: int = 1
    """Deletes in flight at once over consecutive shares (or snapshots): clean-up at scale."""
    entries: list[Entry] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    retryable: Callable[[BaseException], bool] = is_refusal
    retry_budget: float | None = None
    """Seconds left for retries in this run (default: `timeout`)."""
    deadline: float | None = None
    """time.monotonic() by which every clean-up must end (set by stop())."""
    hung: list[str] = field(default_factory=list)
    """Deletes that were still running after their timeout."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.retry_budget is None:
            self.retry_budget = self.timeout

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

    def compact(self) -> None:
        """Forget released entries: a long run (exploration) makes millions of objects, and
        nothing is left to do for them."""
        with self._lock:
            self.entries = [e for e in self.entries if not e.released]

    def stop(self) -> None:
        """The run is stopping: from now on, all clean-up together ends within `timeout`."""
        if self.deadline is None:
            self.deadline = time.monotonic() + self.timeout

    def cleanup(self, progress: Callable[[str], None] | None = None,
                only: Callable[[Entry], bool] | None = None, final: bool = False) -> list[Leak]:
        """Delete outstanding objects (all, or those `only` selects), newest first; return the
        leaks so far.

        A delete the back end refuses (a manila.exception error) is retried while the run's
        retry budget lasts: real back ends refuse to delete a snapshot while a clone from it is
        still copying, and that clears up by itself. A delete still running after its timeout is
        a leak and is listed in `hung` (the run stops).

        Ctrl-C (KeyboardInterrupt) is re-raised. In the `final` clean-up it leaves every object
        not yet deleted as a leak ("cleanup interrupted"); in a check's clean-up the objects stay
        outstanding for the final clean-up.
        """
        pending = [e for e in self.outstanding() if only is None or only(e)]
        deadline = time.monotonic() + self.timeout
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        errors: dict[int, str] = {}
        not_attempted: set[int] = set()
        attempt = 0
        try:
            if self.workers > 1:
                pending = self._delete_in_parallel(pending, deadline, errors, progress)
            while pending:
                attempt += 1
                pass_started = time.monotonic()
                retry = []
                for entry in pending:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        not_attempted.add(id(entry))
                        errors.setdefault(id(entry), "not attempted: the clean-up time ran out")
                        continue
                    if progress:
                        progress(f"cleanup: {entry.kind} {entry.name}"
                                 + (f" (attempt {attempt})" if attempt > 1 else ""))
                    try:
                        call_with_timeout(entry.delete, remaining, f"delete {entry.kind} {entry.name}")
                    except CallTimeout as exc:
                        self.hung.append(str(exc))
                        self._leak(entry, error_text(exc, 300))
                    except Exception as exc:  # noqa: BLE001 - retried or reported as a leak
                        errors[id(entry)] = error_text(exc, 300)
                        if self.retryable(exc):
                            retry.append(entry)
                    else:
                        entry.released = True
                if attempt > 1:
                    self.retry_budget = max(self.retry_budget - (time.monotonic() - pass_started), 0.0)
                pending = [e for e in retry if not e.released]
                if not pending or time.monotonic() + RETRY_PAUSE >= deadline \
                        or self.retry_budget < RETRY_PAUSE:
                    break
                time.sleep(RETRY_PAUSE)
                self.retry_budget -= RETRY_PAUSE
        except KeyboardInterrupt:
            if final:
                for rest in self.outstanding():
                    if only is None or only(rest):
                        self._leak(rest, "cleanup interrupted")
            raise
        for entry in [e for e in self.outstanding() if only is None or only(e)]:
            if id(entry) in errors and (final or id(entry) not in not_attempted):
                self._leak(entry, errors[id(entry)])
        return list(self.leaks)

    def _delete_in_parallel(self, pending: list[Entry], deadline: float, errors: dict[int, str],
                            progress: Callable[[str], None] | None) -> list[Entry]:
        """First pass: the leading runs of consecutive independent objects of one kind (shares,
        or snapshots) deleted `workers` at a time; what failed, and everything from the first
        object of another kind on (an access rule must go before its share), is left for the
        serial passes, in order."""
        left: list[Entry] = []
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="certkit-cleanup")
        try:
            done_upto = 0
            for kind, run in itertools.groupby(pending, key=lambda e: e.kind):
                batch = list(run)
                if kind not in PARALLEL_KINDS or len(batch) < 2:
                    break
                done_upto += len(batch)
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
                        errors[id(entry)] = error_text(exc, 300)
                        if isinstance(exc, CallTimeout):
                            self.hung.append(str(exc))
                            self._leak(entry, errors[id(entry)])
                        else:
                            failed.add(id(entry))
                left += [e for e in batch if id(e) in failed]
            left += pending[done_upto:]
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return left

    def _leak(self, entry: Entry, error: str) -> None:
        entry.released = True
        self.record_leak(entry.kind, entry.id, entry.name, error)

    def record_leak(self, kind: str, obj_id: str, name: str, error: str) -> None:
        """An object left behind outside the ledger's own deletes: one something else made and
        could not delete (the API tier's client, tempest), or one the driver said it removed and
        the back end still holds (a cephx identity after its rules were denied)."""
        with self._lock:
            self.leaks.append(Leak(kind, obj_id, name, error))


def _delete_before(entry: Entry, deadline: float) -> object:
    """Delete with what is left of the clean-up time when the call starts (queued deletes
    must not each get the whole budget)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise CallTimeout(f"delete {entry.kind} {entry.name} (clean-up time used up)", 0)
    return call_with_timeout(entry.delete, remaining, f"delete {entry.kind} {entry.name}")


PARALLEL_KINDS = frozenset({"share", "snapshot"})
"""Kinds whose consecutive entries do not depend on one another (rules of one share do)."""

