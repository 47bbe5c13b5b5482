"""The resource ledger: everything a run creates on the back end is recorded before it is created
and deleted at the end of the run, newest first, also after a failure or Ctrl-C.

The ledger never lists the back end: it deletes only what it recorded (vendors run certkit on
shared arrays).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from certkit.harness.timeouts import CallTimeout, call_with_timeout
from certkit.text import error_text


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
                        errors[id(entry)] = error_text(exc, 300)
                        self._leak(entry, errors[id(entry)])
                    except Exception as exc:  # noqa: BLE001 - retried, then reported as a leak
                        errors[id(entry)] = error_text(exc, 300)
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

    def _leak(self, entry: Entry, error: str) -> None:
        entry.released = True
        self.leaks.append(Leak(entry.kind, entry.id, entry.name, error))

