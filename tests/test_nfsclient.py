"""The libnfs side of the NFS data path without a server: what nfs-ls prints, which address an
identity sends from, and the URLs and commands run on the client host. The real thing, against
NFS-Ganesha, is tests/nfs_acl.py (run by the lab tests)."""

from __future__ import annotations

import pytest

from certkit.nfsclient import PROBE_PREFIX, NfsExport, parse_listing, source_address, split_location

LISTING = """\
-rw-r-----  1     0     0            2 data
drwxr-xr-x  2     0     0         4096 sub dir
-rw-r-----  1     0     0            1 .certkit-probe

  1069547520 of   1073741824 bytes free.
"""


def test_listing_names_sizes_and_file_system_size():
    found = parse_listing(LISTING)
    assert found.sizes == {"data": 2, "sub dir": 4096, ".certkit-probe": 1}
    assert found.total_bytes == 1073741824


def test_a_listing_without_summary_is_a_failure():
    # nfs-ls prints `Failed to opendir(...)` on stdout and exits 10 when the export is refused.
    assert parse_listing('Failed to opendir("") NFS4ERR_ACCESS\n') is None
    assert parse_listing("") is None


@pytest.mark.parametrize("rule, source", [
    ("198.51.100.7", "198.51.100.7"), ("198.51.100.7/32", "198.51.100.7"),
    ("198.51.100.0/24", "198.51.100.1"), ("10.0.0.0/8", "10.0.0.1"),
])
def test_an_identity_sends_from_its_address_or_a_member_of_its_network(rule, source):
    assert source_address(rule) == source


def test_export_locations():
    assert split_location("10.251.0.1:/volumes/_nogroup/a/b") == ("10.251.0.1", "/volumes/_nogroup/a/b")
    assert split_location("[fd00::1]:/x") == ("fd00::1", "/x")
    with pytest.raises(ValueError, match="server:/path"):
        split_location("/no/server")


def test_urls_and_commands_name_the_identity_and_quote_everything():
    export = NfsExport("10.251.0.1", "/share/", "198.51.100.101", 4_125_029)
    assert export.url() == "nfs://10.251.0.1/share?version=4&uid=0&gid=0"
    assert export.url("f") == "nfs://10.251.0.1/share/f?version=4&uid=0&gid=0"
    command = export.as_identity("nfs-cat", export.url("a b;rm"))
    assert command.startswith("setpriv --reuid=4125029 --regid=4125029 --clear-groups timeout ")
    assert "'nfs://10.251.0.1/share/a b;rm?version=4&uid=0&gid=0'" in command
    assert NfsExport("fd00::1", "/s", "fd00::7", 1).url() == "nfs://[fd00::1]/s?version=4&uid=0&gid=0"
    assert PROBE_PREFIX.startswith(".")


def test_the_helper_writes_within_what_libnfs_4_can_encode(monkeypatch):
    """libnfs 4.0 encodes an NFSv4 WRITE into a 4096-byte buffer: a 1 MiB write failed with
    "Failed to encode COMPOUND4args" before anything was sent (cephfs-nfs's shrink check). The
    helper's writes leave 1 KiB of that buffer for the RPC and COMPOUND headers, and write every
    byte of its input once, in order, including a short last chunk."""
    import io

    from certkit import nfs_helper

    data = bytes(range(256)) * 40 + b"tail"  # 10,244 bytes: three full chunks and a short one
    writes: list[tuple[int, bytes]] = []

    class Lib:
        @staticmethod
        def nfs_pwrite(nfs, handle, offset, count, buf):
            writes.append((offset, bytes(buf[:count])))
            return min(count, 2000)  # a server may write less than asked

    monkeypatch.setattr(nfs_helper.sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert nfs_helper._copy_stdin(Lib, None, None) == 0
    assert max(len(chunk) for _, chunk in writes) <= 4096 - 1024
    assert [offset for offset, _ in writes] == [sum(min(len(c), 2000) for _, c in writes[:i])
                                                for i in range(len(writes))]
    assert b"".join(chunk[:2000] for _, chunk in writes) == data
