"""Mounter.file_states reads every file of a mount in one round trip: each file's size and head
must come back under its own name whatever bytes the files hold.

Found by exploration on the CephFS lab: a `fill` wrote a file of zeros, and the NUL bytes of its
head were taken for the separator, so the file after it ('c') read '' on every driver.
"""

from __future__ import annotations

from certkit.datapath import Mounter
from tests.test_clienthost_shell import host  # noqa: F401 - a ClientHost over a local bash


def test_each_file_keeps_its_own_size_and_content_whatever_it_holds(host, tmp_path):  # noqa: F811
    files = {"a": b"a-v1", "bulk1": b"\0" * 70000, "c": b"c-v3", "d": b"line one\nline two\n\n",
             "e": b"x/y\0z", "empty": b""}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    names = sorted(files) + ["missing"]
    states = Mounter(host, tracker=None, run_id="t").file_states(str(tmp_path), names, limit=4096)
    assert len(states) == len(names)
    for name, (size, head) in zip(names, states):
        if name == "missing":
            assert size == "" and head == "", (name, size, head)
            continue
        assert size == str(len(files[name])), (name, size)
        assert head == files[name][:4096].decode(), (name, head[:40])


def test_a_file_the_identity_cannot_read_reads_empty_not_as_its_neighbour(host, tmp_path):  # noqa: F811
    (tmp_path / "a").write_text("mine")
    (tmp_path / "b").mkdir()  # head of a directory fails: nothing is read, the next file is intact
    (tmp_path / "c").write_text("c-v1")
    states = Mounter(host, tracker=None, run_id="t").file_states(str(tmp_path), ["a", "b", "c"])
    assert [head for _, head in states] == ["mine", "", "c-v1"]
