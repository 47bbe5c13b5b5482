"""Mounting a share on a client host with the protocol's mount helper, and doing I/O there.

CephFS is mounted with ceph-fuse. NFS has no kernel client on the lab machines: an NFS "mount" is
the identity's record of an export it could open through libnfs (certkit/nfsclient.py), and the
I/O on paths under it goes through libnfs-utils; docs/labs/nfs-client.md says what this emulates.

Every mount is recorded with the check's resources (`Resources.track`), so it is unmounted even
when a check fails, before the check's shares are deleted.
"""

from __future__ import annotations

import base64
import json
import secrets
import shlex
from typing import Any

from certkit.clienthost import ClientHost, ClientHostError
from certkit.harness.models import Model
from certkit.nfsclient import PROBE_PREFIX, NfsClient, NfsExport


_CONNECT_AS = """
import json, sys
import rados
for name, key in json.load(open(sys.argv[1])).items():
    cluster = rados.Rados(conffile=sys.argv[2], name="client." + name, conf={"key": key})
    try:
        cluster.connect(timeout=10)
        print("ALIVE", name)
    except rados.Error:
        print("GONE", name)
    finally:
        cluster.shutdown()
"""
"""Run on the client host: connects as each identity of the JSON file named (name -> key)."""


FUSE_SETTLE = 10
"""Seconds a FUSE daemon may take to flush and exit after its unmount before it is killed."""


class MountRefused(Exception):
    """The mount helper could not mount the export (what a revoked rule should cause)."""


class Mounter:
    """Mounts exports on one client host for one run."""

    #: Protocols certkit knows how to mount from a client host.
    SUPPORTED = ("CEPHFS", "NFS")

    def __init__(self, client: ClientHost, tracker: Any, run_id: str) -> None:
        self.client = client
        self.tracker = tracker
        """Where mounts are recorded for clean-up: the current check's `Resources`."""
        self._mounted: set[str] = set()
        self.workdir = f"/tmp/certkit-{run_id}"
        self._count = 0
        self._confs: dict[str, str] = {}
        self.nfs = NfsClient(client, f"{self.workdir}-nfs")
        self._exports: dict[str, NfsExport] = {}
        """NFS mountpoints (names only, nothing on disk) -> the export as their identity."""

    def mount(self, share: Model, rule: Model, access_key: str | None) -> str:
        """Mount the share's first user-facing export location as `rule`'s identity."""
        proto = share["share_proto"]
        if proto not in self.SUPPORTED:
            raise NotImplementedError(f"certkit has no {proto} mount helper yet")
        self._count += 1
        mountpoint = f"{self.workdir}/mnt{self._count}"
        location = next((el["path"] for el in share["export_locations"] if not el.get("is_admin_only")),
                        share["export_locations"][0]["path"])
        entry = self.tracker.track("mount", mountpoint, f"{self.client.name}:{mountpoint}",
                                   lambda: self.unmount(mountpoint))
        try:
            if proto == "NFS":
                self._mount_nfs(location, rule, mountpoint)
            else:
                self._mount_cephfs(location, rule, access_key, mountpoint)
        except MountRefused:
            self.tracker.release(entry)
            raise
        self._mounted.add(mountpoint)
        return mountpoint

    def _mount_cephfs(self, location: str, rule: Model, access_key: str | None,
                      mountpoint: str) -> None:
        monitors, _, path = location.partition(":/")
        path = "/" + path
        identity = rule["access_to"]
        keyring = f"{self.workdir}/{identity}.keyring"
        conf = self._ceph_conf(monitors)
        if not access_key:  # cephx needs the key update_access returned; ceph-fuse would hang
            raise MountRefused(f"no access key for client.{identity} (update_access returned none)")
        # The key goes through stdin into a 0600 file, never onto a command line.
        self.client.write_file(keyring, f"[client.{identity}]\n\tkey = {access_key or ''}\n")
        mp = shlex.quote(mountpoint)
        result = self.client.run(
            f"mkdir -p {mp} && timeout 45 ceph-fuse --no-mon-config --client_mount_timeout=20 "
            f"-c {shlex.quote(conf)} "
            f"-n client.{identity} -k {shlex.quote(keyring)} -r {shlex.quote(path)} {mp} "
            f"&& mountpoint -q {mp} || {{ rc=$?; rmdir {mp} 2>/dev/null; exit $rc; }}")
        if not result.ok:
            raise MountRefused(f"ceph-fuse as client.{identity} exited {result.status}: "
                               f"{(result.stderr or result.stdout).strip()[-200:]}")

    def _mount_nfs(self, location: str, rule: Model, mountpoint: str) -> None:
        """Open the export's root as the rule's address; the mountpoint names the export."""
        export = self.nfs.export(location, rule["access_to"])
        result = self.nfs.opens(export)
        if not result.ok:
            raise MountRefused(f"libnfs as {export.identity} could not open {location} "
                               f"(exit {result.status}): {(result.stderr or result.stdout).strip()[-200:]}")
        self._exports[mountpoint] = export

    def _nfs_path(self, path: str) -> tuple[NfsExport, str] | None:
        """(export, name in its root) when `path` lies in an NFS mount."""
        for mountpoint, export in self._exports.items():
            if path == mountpoint or path.startswith(mountpoint + "/"):
                return export, path[len(mountpoint) + 1:]
        return None

    def is_mounted(self, mountpoint: str) -> bool:
        """Whether something is mounted there."""
        if mountpoint in self._exports:
            return True
        return self.client.run(f"mountpoint -q {shlex.quote(mountpoint)}").ok

    def unmount(self, mountpoint: str) -> None:
        """Unmount (lazily if busy) and remove the directory, in one round trip."""
        if self._exports.pop(mountpoint, None) is not None:
            self._mounted.discard(mountpoint)
            self.tracker.release(mountpoint)
            return
        mp = shlex.quote(mountpoint)
        # Mounted as the kernel's table says: `mountpoint` fails on a FUSE mount whose daemon is
        # gone ("Transport endpoint is not connected"), which then stayed mounted. A FUSE
        # daemon (ceph-fuse) whose session the back end evicted (a deny that revokes every
        # client) outlives a lazy unmount: it gets FUSE_SETTLE seconds to flush and exit, as
        # after any unmount, then SIGKILL.
        result = self.client.run(
            f"if awk -v m={mp} '$2 == m {{ found = 1 }} END {{ exit !found }}' /proc/self/mounts; then "
            f"umount {mp} 2>/dev/null || umount -l {mp} || exit 1; fi; "
            f"for i in $(seq {FUSE_SETTLE * 10}); do left=; for p in $(pgrep -x ceph-fuse); do "
            f"[ \"$(tr '\\0' '\\n' < /proc/$p/cmdline 2>/dev/null | tail -n 1)\" = {mp} ] && left=\"$left $p\"; done; "
            f"[ -z \"$left\" ] && break; [ $i = {FUSE_SETTLE * 10} ] && kill -9 $left 2>/dev/null; sleep 0.1; done; "
            f"rmdir {mp} 2>/dev/null; exit 0", timeout=FUSE_SETTLE + 60)
        if not result.ok:
            raise ClientHostError(f"cannot unmount {mountpoint}: {result.stderr.strip()[:200]}")
        self._mounted.discard(mountpoint)
        self.tracker.release(mountpoint)

    def write(self, path: str, data: str) -> Any:
        """Write text to a file; returns the command result (check .ok)."""
        nfs = self._nfs_path(path)
        if nfs:
            return self.nfs.put(*nfs, data)
        return self.client.run(f"printf %s {shlex.quote(data)} > {shlex.quote(path)} && sync")

    def read(self, path: str) -> str | None:
        """The file's text, or None when it cannot be read."""
        nfs = self._nfs_path(path)
        if nfs:
            return self.nfs.cat(*nfs)
        result = self.client.run(f"cat {shlex.quote(path)}")
        return result.stdout if result.ok else None

    def listing(self, mountpoint: str) -> list[str] | None:
        """The names in the mount's root (None: it cannot be listed; over NFS, `why_unlisted`
        says why)."""
        nfs = self._nfs_path(mountpoint)
        if nfs:
            found = self.nfs.listing(nfs[0])
            return None if found is None else list(found.sizes)
        result = self.client.run(f"ls -A {shlex.quote(mountpoint)}")
        return result.stdout.split() if result.ok else None

    def why_unlisted(self) -> str:
        """Why the latest NFS listing failed ('' for other protocols)."""
        return self.nfs.last_error

    def file_states(self, mountpoint: str, names: list[str], limit: int = 4096) -> list[tuple[str, str | None]]:
        """For each file in the mount's root: (its size as text, '' when missing; its first
        `limit` bytes, None when unreadable), in as few round trips as the protocol allows."""
        nfs = self._nfs_path(mountpoint)
        if nfs:
            found = self.nfs.listing(nfs[0])
            heads = self.nfs.heads(nfs[0], names, limit)
            sizes = found.sizes if found else {}
            return [(str(sizes[n]) if n in sizes else "", h) for n, h in zip(names, heads)]
        quoted = " ".join(shlex.quote(f"{mountpoint}/{n}") for n in names)
        # One round trip, a line a file: its size, then its head in base64 (a file's own bytes,
        # NULs and newlines included, can never be taken for the separator: a bulk file of zeros
        # once shifted every later file's content onto the wrong name).
        result = self.client.run(f"for f in {quoted}; do printf '%s/' \"$(stat -c %s -- \"$f\" 2>/dev/null)\"; "
                                 f"head -c {limit} -- \"$f\" 2>/dev/null | base64 -w0; echo; done")
        lines = result.stdout.splitlines()
        states: list[tuple[str, str | None]] = []
        for n in range(len(names)):
            size, slash, head = lines[n].partition("/") if n < len(lines) else ("", "", "")
            states.append((size.strip(), base64.b64decode(head).decode(errors="replace") if slash else None))
        return states

    def file_size(self, path: str) -> int | None:
        """A file's size in bytes (None: it cannot be seen)."""
        nfs = self._nfs_path(path)
        if nfs:
            found = self.nfs.listing(nfs[0])
            return None if found is None else found.sizes.get(nfs[1])
        result = self.client.run(f"stat -c %s {shlex.quote(path)}")
        return int(result.stdout.strip()) if result.ok else None

    def probe_write(self, mountpoint: str) -> bool:
        """Whether a small file can be written in the mount's root (then removed)."""
        name = f"{PROBE_PREFIX}-{secrets.token_hex(3)}"
        nfs = self._nfs_path(mountpoint)
        if nfs:
            wrote = self.nfs.put(nfs[0], name, "x").ok
            if wrote:
                self.nfs.remove(nfs[0], name)
            return wrote
        probe = shlex.quote(f"{mountpoint}/{name}")
        return self.client.run(f"printf x > {probe} && rm -f {probe}").ok

    def read_only_probe(self, mountpoint: str, name: str) -> tuple[str | None, bool]:
        """Through a mount made with a ro rule: (the text of `name`, whether a write beside it
        was refused); then unmount."""
        seen = self.read(f"{mountpoint}/{name}")
        refused = not self.write(f"{mountpoint}/forbidden", "x").ok
        self.unmount(mountpoint)
        return seen, refused

    def fill(self, mountpoint: str, mebibytes: int, name: str = "fill") -> Any:
        """Write `mebibytes` MiB of zeros into the mount as `name`."""
        nfs = self._nfs_path(mountpoint)
        if nfs:
            return self.nfs.fill(nfs[0], name, mebibytes)
        return self.client.run(f"dd if=/dev/zero of={shlex.quote(mountpoint)}/{shlex.quote(name)} bs=1M "
                               f"count={max(mebibytes, 1)} conv=fsync status=none", timeout=600)

    def size_bytes(self, mountpoint: str) -> int:
        """The size the client sees for the mount (df; statvfs over NFS), in bytes."""
        nfs = self._nfs_path(mountpoint)
        if nfs:
            found = self.nfs.listing(nfs[0])
            if found is None:
                raise ClientHostError(f"{self.client.where}: cannot read the size of NFS export "
                                      f"{nfs[0].path} as {nfs[0].identity}: {self.nfs.last_error}")
            return found.total_bytes
        result = self.client.run(f"df -B1 --output=size {shlex.quote(mountpoint)} | tail -1", check=True)
        return int(result.stdout.strip())

    def _ceph_conf(self, monitors: str) -> str:
        """The client host's ceph.conf for a cluster's monitors (`host:port,...`), written once."""
        conf = self._confs.get(monitors)
        if conf is None:
            conf = f"{self.workdir}/ceph-{len(self._confs)}.conf"
            self.client.write_file(conf, f"[global]\nmon host = {monitors}\nms bind msgr2 = false\n"
                                         "client quota df = true\n", 0o644)
            self._confs[monitors] = conf
        return conf

    def cephx_identities_alive(self, keys: dict[str, str], location: str) -> list[str] | None:
        """Of these cephx identities (name -> key), those the cluster of the CephFS export
        `location` (`monitors:/path`) still accepts: a client connects as each (librados, one
        process, keys through a 0600 file); None when the client host cannot tell (no
        python3-rados there)."""
        if not keys:
            return []
        conf = self._ceph_conf(location.partition(":/")[0])
        secrets_file = f"{self.workdir}/identities.json"
        self.client.write_file(secrets_file, json.dumps(keys))
        # The system's Python (Debian's python3-rados), not whichever one PATH finds first.
        result = self.client.run(f"py=/usr/bin/python3; [ -x $py ] || py=python3; "
                                 f"timeout {30 + 15 * len(keys)} $py -c {shlex.quote(_CONNECT_AS)} "
                                 f"{shlex.quote(secrets_file)} {shlex.quote(conf)}; rc=$?; "
                                 f"rm -f {shlex.quote(secrets_file)}; exit $rc", timeout=60 + 15 * len(keys))
        if not result.ok:
            return None
        return [line.split(" ", 1)[1] for line in result.stdout.splitlines() if line.startswith("ALIVE ")]

    def close(self) -> None:
        """End of the run: unmount what is left and remove the work directory (keyrings
        included) from the client host; raises when it is still there."""
        for mountpoint in sorted(self._mounted, reverse=True):
            self.unmount(mountpoint)
        self.nfs.close()
        quoted = shlex.quote(self.workdir)
        # --one-file-system: a mount that survived would otherwise have its share's data removed.
        self.client.run(f"rm -rf --one-file-system {quoted}")
        if self.client.run(f"test -e {quoted}").ok:
            raise ClientHostError(f"{self.client.where}: cannot remove the work directory {self.workdir}")
