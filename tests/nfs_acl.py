"""The NFS data path's identity model against a lab's real NFS-Ganesha: an export written by
hand (no Manila driver in between) with one rw and one ro client address, added and changed over
Ganesha's D-Bus, then observed through certkit's Mounter (libnfs on the client host, one source
address per identity). What passes here is Ganesha's decision, not certkit's."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from certkit.clienthost import ClientHost
from certkit.datapath import MountRefused, Mounter
from certkit.harness.ledger import ResourceLedger
from certkit.plugin.clienthost import MountRecords

EXPORT_ID = 9071
RW, RO, NONE = "198.51.100.231", "198.51.100.232", "198.51.100.233"
DBUS = ["dbus-send", "--print-reply", "--system", "--dest=org.ganesha.nfsd",
        "/org/ganesha/nfsd/ExportMgr"]


def export_block(pseudo: str, fsal: str, clients: dict[str, str]) -> str:
    """One Ganesha EXPORT whose default is no access; `clients` maps address -> RW/RO."""
    blocks = "".join(f"  CLIENT {{ Clients = {ip}; Access_Type = {level}; }}\n"
                     for ip, level in clients.items())
    return (f"EXPORT {{\n  Export_Id = {EXPORT_ID};\n  Path = \"/\";\n  Pseudo = \"{pseudo}\";\n"
            "  Access_Type = None;\n  Squash = None;\n  Protocols = 4;\n  Transports = TCP;\n"
            f"  SecType = sys;\n  FSAL {{\n{fsal}  }}\n{blocks}}}\n")


def dbus(method: str, *args: str) -> None:
    proc = subprocess.run([*DBUS, f"org.ganesha.nfsd.exportmgr.{method}", *args],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def exercise_export_acls(client_env: dict[str, str], export_dir: Path, server: str, fsal: str) -> None:
    """rw writes and reads; ro reads and cannot write; an unlisted address cannot open the
    export; after Ganesha swaps the rw and unlisted addresses, each kept or fresh mount follows
    Ganesha; nothing of the identities stays on the client host after close."""
    pseudo = "/certkit-nfs-acl"
    conf = export_dir / f"certkit-acl-{EXPORT_ID}.conf"
    conf.write_text(export_block(pseudo, fsal, {RW: "RW", RO: "RO"}))
    share = {"share_proto": "NFS", "export_locations": [{"path": f"{server}:{pseudo}", "is_admin_only": False}]}
    host = ClientHost("lab-client", client_env["CERTKIT_CLIENT_HOST"], "root",
                      client_env["CERTKIT_CLIENT_KEY"], client_env["CERTKIT_CLIENT_KNOWN_HOSTS"]).connect()
    ledger = ResourceLedger()
    mounter = Mounter(host, MountRecords(ledger), "nfsacl")
    dbus("AddExport", f"string:{conf}", f"string:EXPORT(Export_Id={EXPORT_ID})")
    try:
        _observe(mounter, share, conf, pseudo, fsal)
    finally:
        dbus("RemoveExport", f"uint16:{EXPORT_ID}")
        conf.unlink()
        ledger.cleanup()
        mounter.close()
        left = host.run("ip -o addr show; ip rule show").stdout
        host.close()
    assert "198.51.100." not in left and "uidrange" not in left, left


def _rule(ip: str) -> dict[str, Any]:
    return {"access_to": ip, "access_type": "ip"}


def _observe(mounter: Mounter, share: dict, conf: Path, pseudo: str, fsal: str) -> None:
    writer = mounter.mount(share, _rule(RW), None)
    wrote = mounter.write(f"{writer}/data", "from-rw")
    assert wrote.ok, wrote.stderr
    assert mounter.read(f"{writer}/data") == "from-rw"
    assert mounter.write(f"{writer}/data", "v2").ok  # an overwrite truncates
    assert mounter.read(f"{writer}/data") == "v2"
    assert "data" in mounter.listing(writer) and mounter.file_size(f"{writer}/data") == 2
    assert mounter.size_bytes(writer) > 0
    assert mounter.probe_write(writer)
    assert not any(n.startswith(".certkit-probe") for n in mounter.listing(writer))
    reader = mounter.mount(share, _rule(RO), None)
    assert mounter.read(f"{reader}/data") == "v2"
    assert not mounter.probe_write(reader), "Ganesha let a RO client write"
    assert not mounter.write(f"{reader}/data", "from-ro").ok
    assert mounter.read(f"{writer}/data") == "v2"
    with pytest.raises(MountRefused):
        mounter.mount(share, _rule(NONE), None)
    # Ganesha changes its mind (rw and unlisted addresses swapped): the kept mounts follow it.
    conf.write_text(export_block(pseudo, fsal, {NONE: "RW", RO: "RO"}))
    dbus("UpdateExport", f"string:{conf}", f"string:EXPORT(Export_Id={EXPORT_ID})")
    assert not mounter.write(f"{writer}/after", "x").ok, "a kept mount wrote after its rule went"
    assert mounter.listing(writer) is None
    assert mounter.read(f"{reader}/data") == "v2"
    newcomer = mounter.mount(share, _rule(NONE), None)
    assert mounter.write(f"{newcomer}/newcomer", "n").ok
    assert mounter.read(f"{reader}/newcomer") == "n"
    for mountpoint in (writer, reader, newcomer):
        mounter.unmount(mountpoint)
