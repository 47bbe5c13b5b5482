"""The reference model of a share back end: what Manila's API promises a user, in plain Python.

Shares have a size, files (name -> content), data used by bulk writes (MiB), access rules
(identity -> level) and snapshots (point-in-time copies of the files and the size). A share
created from a snapshot starts with the snapshot's files and is independent from then on. The
model knows nothing of any driver: the explorer compares what it observes with what this says.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

LEVELS = ("rw", "ro")


@dataclass
class SnapshotState:
    """A snapshot: the share's files, bulk data and size when it was taken."""

    name: str
    share: str
    size: int
    files: dict[str, str]
    used_mib: int


@dataclass
class ShareState:
    """A share as a user of Manila's API sees it."""

    name: str
    size: int
    files: dict[str, str] = field(default_factory=dict)
    used_mib: int = 0
    rules: dict[str, str] = field(default_factory=dict)
    """identity -> access level (one rule per identity per share: the API refuses a second)."""
    snapshots: list[str] = field(default_factory=list)
    """Its snapshots, oldest first."""


class Refused(Exception):
    """The model expects the back end to refuse this step (e.g. a shrink below used data)."""


@dataclass
class ShareModel:
    """Every share, snapshot and rule the explorer made, and what each must show."""

    shares: dict[str, ShareState] = field(default_factory=dict)
    snapshots: dict[str, SnapshotState] = field(default_factory=dict)
    counter: int = 0

    def new_name(self, kind: str) -> str:
        """`s1`, `snap2`...: names that are stable across replays of one step list."""
        self.counter += 1
        return f"{kind}{self.counter}"

    # -- transitions ----------------------------------------------------------------------
    def create_share(self, name: str, size: int) -> None:
        self.shares[name] = ShareState(name, size)

    def snapshot(self, name: str, share: str) -> None:
        src = self.shares[share]
        self.snapshots[name] = SnapshotState(name, share, src.size, dict(src.files), src.used_mib)
        src.snapshots.append(name)

    def share_from_snapshot(self, name: str, snapshot: str, size: int) -> None:
        snap = self.snapshots[snapshot]
        if size < snap.size:
            raise ValueError(f"the API refuses a share smaller than its snapshot ({size} < {snap.size})")
        self.shares[name] = ShareState(name, size, dict(snap.files), snap.used_mib)

    def delete_share(self, name: str) -> None:
        if self.shares[name].snapshots:
            raise ValueError("the API refuses to delete a share that has snapshots")
        del self.shares[name]

    def delete_snapshot(self, name: str) -> None:
        snap = self.snapshots.pop(name)
        self.shares[snap.share].snapshots.remove(name)

    def resize(self, name: str, new_size: int) -> None:
        """Extend or shrink; a shrink below the data in use is refused (`Refused`)."""
        share = self.shares[name]
        if new_size < share.size and share.used_mib > new_size * 1024:
            raise Refused(f"{share.used_mib} MiB in use do not fit in {new_size} GiB")
        share.size = new_size

    def revert(self, snapshot: str) -> None:
        """Revert to the share's latest snapshot (the only one Manila allows): its files and size."""
        snap = self.snapshots[snapshot]
        share = self.shares[snap.share]
        if share.snapshots[-1] != snapshot:
            raise ValueError("the API reverts to the latest snapshot only")
        share.files, share.used_mib, share.size = dict(snap.files), snap.used_mib, snap.size

    def set_rules(self, share: str, rules: dict[str, str]) -> None:
        self.shares[share].rules = dict(rules)

    def write(self, share: str, path: str, content: str) -> None:
        self.shares[share].files[path] = content

    def fill(self, share: str, mib: int) -> None:
        self.shares[share].used_mib += mib

    # -- what observers must see ----------------------------------------------------------
    def level(self, identity: str, share: str) -> str | None:
        """What `identity` may do on `share`: 'rw', 'ro' or None (not even mount)."""
        return self.shares[share].rules.get(identity)

    def latest_snapshot(self, share: str) -> str | None:
        snaps = self.shares[share].snapshots
        return snaps[-1] if snaps else None

    def fingerprint(self) -> tuple:
        """The model's state up to names (for counting distinct states reached)."""
        shares = tuple(sorted(
            (s.size, len(s.files), s.used_mib > 0, tuple(sorted(s.rules.values())), len(s.snapshots))
            for s in self.shares.values()))
        return shares, len(self.snapshots)

    def copy(self) -> "ShareModel":
        return copy.deepcopy(self)
