"""The resource ledger: everything a run creates on the back end is recorded before it is created
and deleted at the end of the run, newest first, also after a failure or Ctrl-C.

The ledger never lists the back end: it deletes only what it recorded (vendors run certkit on
shared arrays).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from certkit.harness.timeouts import call_with_timeout


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
        leaks so far (objects that could not be deleted)."""
        pending = [e for e in self.outstanding() if only is None or only(e)]
        for index, entry in enumerate(pending):
            if progress:
                progress(f"cleanup {index + 1}/{len(pending)}: {entry.kind} {entry.name}")
            try:
                call_with_timeout(entry.delete, self.timeout, f"delete {entry.kind} {entry.name}")
            except KeyboardInterrupt:
                for rest in pending[index:]:
                    self._leak(rest, "cleanup interrupted")
                break
            except Exception as exc:  # noqa: BLE001 - any failure is reported as a leak
                self._leak(entry, f"{type(exc).__name__}: {_one_line(exc)}")
            else:
                entry.released = True
        return list(self.leaks)

    def _leak(self, entry: Entry, error: str) -> None:
        entry.released = True
        self.leaks.append(Leak(entry.kind, entry.id, entry.name, error))


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
