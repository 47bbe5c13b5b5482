"""Two client-host labs on one machine (the shared client namespace and a second one named by
CERTKIT_LAB_NETNS): each has its own record under /run/certkit/labs and its own default
directory, so `lab up`, `env` and `down` on one never find the other's directory; and a
benchmark run against a lab reaches that lab's client host, not the profile's default address.
Without a lab: the records go to a temporary directory, no daemon starts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from certkit.lab import base
from certkit.lab.cephfs import CephFSLab
from certkit.lab.glusterfs import GlusterFSLab
from tests.conftest import ROOT

SECOND = {"CERTKIT_LAB_NETNS": "certkit-client2", "CERTKIT_LAB_HOST_IF": "ckc2-host",
          "CERTKIT_LAB_CLIENT_IF": "ckc2-client", "CERTKIT_LAB_HOST_IP": "10.252.0.1",
          "CERTKIT_LAB_CLIENT_IP": "10.252.0.2"}


@pytest.fixture
def records(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "RECORDS", tmp_path / "records")
    for key in (*SECOND, "CERTKIT_LAB_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _second(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECOND.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("kind", [CephFSLab, GlusterFSLab])
def test_a_lab_on_a_second_namespace_never_finds_the_shared_ones(kind, records, monkeypatch):
    shared = kind(records / "shared-lab")
    shared.dir.mkdir()
    shared.record()
    assert kind.default_dir() == shared.dir, "`down` from any directory finds the running lab"
    _second(monkeypatch)
    assert kind.instance() == f"{kind.name}@certkit-client2"
    assert kind.default_dir() == Path("lab") / f"{kind.name}@certkit-client2", \
        "not the shared namespace's lab directory"
    second = kind()
    second.dir.mkdir(parents=True)
    second.record()
    assert kind.default_dir() == second.dir and second.network.netns == "certkit-client2"
    second.forget()
    monkeypatch.delenv("CERTKIT_LAB_NETNS")
    assert kind.default_dir() == shared.dir, "the second lab's `down` left the shared one's record"


def test_the_power_benchmark_reaches_the_running_labs_client_host(records, monkeypatch):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import explore_power

    _second(monkeypatch)
    monkeypatch.setenv("CERTKIT_LAB_DIR", str(records / "lab2"))
    with pytest.raises(SystemExit, match=r"the CephFS lab is not up \(no .*lab2/ceph.conf\)"):
        explore_power.lab_env("cephfs")
    (records / "lab2").mkdir()
    (records / "lab2" / "ceph.conf").write_text("[global]\n")
    env = explore_power.lab_env("cephfs")
    assert env["CERTKIT_CLIENT_HOST"] == "10.252.0.2", "the second namespace's client, not 10.251.0.2"
    assert env["CERTKIT_CEPH_CONF"] == str(records / "lab2" / "ceph.conf")
    assert env["CERTKIT_CLIENT_KNOWN_HOSTS"] == str(records / "lab2" / "ssh" / "known_hosts")
    assert explore_power.lab_env("dummy") == {}


def test_each_ceph_lab_instance_has_its_own_bindings_file():
    from certkit.lab.cephfs import _pth_path

    shared, second = _pth_path("cephfs"), _pth_path("cephfs@certkit-client2")
    assert shared.name == "certkit-lab-ceph.pth", "the shared lab's file keeps its name"
    assert second.name == "certkit-lab-ceph@certkit-client2.pth" and second.parent == shared.parent


def test_a_printed_minimal_sequence_reads_back_as_the_same_steps():
    """`--replay-found` rebuilds a replay file from rows that kept only the printed steps."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import explore_power
    from certkit.explore.steps import Step

    steps = [Step("create_share", {"share": "s1", "size": 2}), Step("remount"),
             Step("change_access", {"share": "s1", "add": [["id2", "rw"]], "deny": ["id1", "c3"]}),
             Step("write", {"share": "s1", "path": "a", "content": "a-v'9"})]
    assert [explore_power.parsed_step(str(step)) for step in steps] == steps


def test_only_the_shared_namespaces_ceph_lab_starts_ganesha(records, monkeypatch):
    """Ganesha owns the machine's one D-Bus name: a CephFS lab on a second namespace starts none
    (its `up` failed waiting for it while another lab's Ganesha ran) and serves cephfs-native."""
    started: list[str] = []
    shared = CephFSLab(records / "shared-lab")
    monkeypatch.setattr(type(shared.nfs), "start", lambda self, *a, **k: started.append("ganesha"))
    shared._start_ganesha()
    assert started == ["ganesha"] and shared.serves_nfs
    _second(monkeypatch)
    second = CephFSLab(records / "second-lab")
    second._start_ganesha()
    assert started == ["ganesha"] and not second.serves_nfs
