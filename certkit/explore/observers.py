"""What is observed after every step, and compared with the model.

`DriverObserver` judges what the driver itself returns (every back end): each share keeps export
locations of its own. `ClientObserver` adds the data path from a client host (Jepsen's lesson:
observe from the outside): every identity of the pool on every share, through mounts kept
across steps and fresh ones, for mount/read/write rights, each file's content, no foreign file,
and the size the client sees.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from certkit.contract.checks import expect
from certkit.datapath import MountRefused, Mounter
from certkit.explore.executor import IDENTITIES

if TYPE_CHECKING:
    from certkit.explore.executor import Executor

GIB = 1024 ** 3
MIB = 1024 ** 2
BULK = "\0bulk:"
"""Model content of a file written by `fill` (its size, not its bytes, is compared)."""
SIZE_SETTLE = 10.0
"""Seconds a new size may take to reach a kept mount (quota changes travel with caps)."""


class DriverObserver:
    """Observations of what the driver returned (no client host)."""

    data_path = False

    def observe(self, ex: "Executor") -> None:
        paths: dict[str, str] = {}
        for name, share in ex.shares.items():
            locations = [el["path"] for el in share["export_locations"]]
            expect(bool(locations), f"share {name} has no export location")
            for path in locations:
                other = paths.setdefault(path, name)
                expect(other == name, f"shares {other} and {name} have the same export location "
                                      f"{path!r}: a client of one would mount the other")

    def forget(self, ex: "Executor", share: str) -> None:
        """The share is about to be deleted."""

    def revoked(self, ex: "Executor", share: str, identities: list[str]) -> None:
        """These identities are about to lose their rules on the share."""

    def write(self, ex: "Executor", share: str, path: str, content: str) -> None:
        """Without a client host, data is not observable: the model alone records it."""

    def fill(self, ex: "Executor", share: str, mib: int) -> None:
        """Without a client host, bulk data is not written."""

    def remount(self, ex: "Executor") -> None:
        """No mounts without a client host."""

    def close(self, ex: "Executor") -> None:
        """Nothing held."""

    def identities_left(self, ex: "Executor") -> list[str] | None:
        """After the example's clean-up: the back-end identities it was given keys for that the
        back end still accepts (None: not observable)."""
        return None


class ClientObserver(DriverObserver):
    """Observations from the client host, on top of the driver's answers."""

    data_path = True

    def __init__(self, mounter: Mounter) -> None:
        self.mounter = mounter
        self.mounts: dict[tuple[str, str], str] = {}
        """(share, identity) -> mountpoint, kept across steps."""
        self.location: str | None = None
        """An export location of the latest share observed (its back end's address)."""

    # -- mounts -----------------------------------------------------------------------------
    def _mount(self, ex: "Executor", share: str, identity: str) -> str:
        rule = ex.rules[share].get(identity) or ex.res.models.access_rule(
            ex.shares[share], ex.backend.access_type, ex.access_to(identity))
        return self.mounter.mount(ex.shares[share], rule, ex.key(identity))

    def _drop(self, share: str, identity: str) -> None:
        mountpoint = self.mounts.pop((share, identity), None)
        if mountpoint:
            self.mounter.unmount(mountpoint)

    def forget(self, ex: "Executor", share: str) -> None:
        for identity in [i for s, i in self.mounts if s == share]:
            self._drop(share, identity)

    def revoked(self, ex: "Executor", share: str, identities: list[str]) -> None:
        # A revoked identity's kept mount is not judged (NFS lets open mounts live on): dropped.
        for identity in identities:
            self._drop(share, identity)

    def remount(self, ex: "Executor") -> None:
        """Fresh mounts: every kept mount is unmounted; observe() mounts again."""
        for share, identity in list(self.mounts):
            self._drop(share, identity)

    def close(self, ex: "Executor") -> None:
        self.remount(ex)

    def identities_left(self, ex: "Executor") -> list[str] | None:
        if ex.backend.access_type != "cephx" or self.location is None:
            return None
        issued = {ex.access_to(i): key for i, key in ex.keys.items()}
        return self.mounter.cephx_identities_alive(issued, self.location)

    def _writer(self, ex: "Executor", share: str) -> str:
        # The pool's first rw identity: a crowd identity ("c1" sorts first) has no client, and
        # over NFS its address is not even routed to the client host.
        identity = next(i for i in IDENTITIES if ex.model.shares[share].rules.get(i) == "rw")
        mountpoint = self.mounts.get((share, identity))
        if mountpoint is None:
            mountpoint = self.mounts[(share, identity)] = self._mount(ex, share, identity)
        return mountpoint

    def write(self, ex: "Executor", share: str, path: str, content: str) -> None:
        mountpoint = self._writer(ex, share)
        expect(self.mounter.write(f"{mountpoint}/{path}", content).ok,
               f"writing {path} to share {share} through a rw rule failed")

    def fill(self, ex: "Executor", share: str, mib: int) -> None:
        mountpoint = self._writer(ex, share)
        name = f"bulk{len(ex.model.shares[share].files)}"
        result = self.mounter.fill(mountpoint, mib, name)
        expect(result.ok, f"writing {mib} MiB to share {share} ({ex.model.shares[share].size} GiB, "
                          f"{ex.model.shares[share].used_mib} MiB used) failed: {result.stderr.strip()[:200]}")
        ex.model.write(share, name, f"{BULK}{mib}")

    # -- observing --------------------------------------------------------------------------
    def observe(self, ex: "Executor") -> None:
        super().observe(ex)
        for share in ex.shares.values():  # where the back end is, for identities_left
            self.location = share["export_locations"][0]["path"]
        for share in ex.model.shares:
            # the pool only: crowd clients are judged by the driver's answers (no such client)
            for identity in sorted({*ex.keys, *ex.model.shares[share].rules} & set(IDENTITIES)):
                level = ex.model.level(identity, share)
                if level is None:
                    self._drop(share, identity)
                    self._expect_no_access(ex, share, identity)
                else:
                    self._expect_access(ex, share, identity, level)

    def _expect_no_access(self, ex: "Executor", share: str, identity: str) -> None:
        if ex.key(identity) is None:
            return  # never granted anywhere: the client has no credential to try
        try:
            mountpoint = self._mount(ex, share, identity)
        except MountRefused:
            return
        try:
            seen = self.mounter.listing(mountpoint)
            wrote = self.mounter.probe_write(mountpoint)
        finally:
            self.mounter.unmount(mountpoint)
        expect(seen is None and not wrote,
               f"{identity} has no rule on share {share} and could mount it and "
               + ("write" if wrote else f"list {sorted(seen or [])}"))

    def _expect_access(self, ex: "Executor", share: str, identity: str, level: str) -> None:
        mountpoint = self.mounts.get((share, identity))
        fresh = mountpoint is None
        if fresh:
            try:
                mountpoint = self._mount(ex, share, identity)
            except MountRefused as exc:
                raise AssertionError(f"{identity} has a {level} rule on share {share} and cannot "
                                     f"mount it: {exc}") from None
            self.mounts[(share, identity)] = mountpoint
        how = f"{identity} ({level}, {'fresh' if fresh else 'kept'} mount) on share {share}"
        state = ex.model.shares[share]
        seen = self.mounter.listing(mountpoint)
        why = self.mounter.why_unlisted() if seen is None else ""
        expect(seen is not None, f"{how}: cannot list the share" + (f" ({why})" if why else ""))
        expect(set(seen) == set(state.files),
               f"{how}: the share holds {sorted(seen)}; the model says {sorted(state.files)}")
        self._expect_contents(mountpoint, state.files, how)
        wrote = self.mounter.probe_write(mountpoint)
        expect(wrote == (level == "rw"), f"{how}: a write was "
                                         + ("refused" if level == "rw" else "accepted"))
        self._expect_size(mountpoint, state.size, how)

    def _expect_contents(self, mountpoint: str, files: dict[str, str], how: str) -> None:
        if not files:
            return
        states = self.mounter.file_states(mountpoint, sorted(files))
        for name, (size, content) in zip(sorted(files), states):
            want = files[name]
            if want.startswith(BULK):
                expect(size.strip() == str(int(want[len(BULK):]) * MIB),
                       f"{how}: {name} is {size.strip() or 'missing'} bytes; the model says "
                       f"{want[len(BULK):]} MiB")
            else:
                expect(content == want, f"{how}: {name} reads {content!r:.60}; the model says {want!r}")

    def _expect_size(self, mountpoint: str, size_gib: int, how: str) -> None:
        deadline = time.monotonic() + SIZE_SETTLE
        while True:
            seen = self.mounter.size_bytes(mountpoint)
            if seen == size_gib * GIB or time.monotonic() > deadline:
                break
            time.sleep(1)
        expect(seen == size_gib * GIB, f"{how}: the client sees {seen / GIB:.2f} GiB; the model "
                                       f"says {size_gib} GiB")
