"""Model-based exploration (--suite explore) on the DummyDriver: seeded and reproducible, a
broken driver found, shrunk and replayed from its file, and nothing left behind by Ctrl-C.

The Ceph lab half (the data path, `ceph fs subvolume ls` and `ceph auth ls`) is in
tests/test_explore_lab.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from certkit.explore.binding import NOT_OBSERVABLE, claims_of, executor_factory
from certkit.explore.exploration import ExploreOptions, explore
from certkit.explore.steps import read_replay
from certkit.runner import run_certification
from certkit.session import CertificationRun
from certkit import cli
from tests.conftest import DUMMY_PROFILE, ROOT

EXPLORED = ("share", "access_ro", "extend", "shrink", "snapshot", "create_from_snapshot",
            "revert_to_snapshot", "ensure_shares")


def _profile_with_driver(tmp_path, driver: str):
    path = tmp_path / "profile.yaml"
    path.write_text((ROOT / "driver_profiles" / "manila-dummy.yaml").read_text()
                    .replace("manila.tests.share.drivers.dummy.DummyDriver", driver))
    return path


def test_seeded_exploration_of_the_dummy_driver_verifies_every_explored_feature(dummy_profile, tmp_path):
    options = ExploreOptions(budget=300, steps=15, seed=7, examples=30, directory=tmp_path)
    report = run_certification(dummy_profile, suites=["explore"], explore_options=options).report
    section = report["explore"]
    assert section["seed"] == 7 and section["counterexample"] is None
    assert section["examples"] >= 30 and section["steps"] > section["examples"]
    assert section["distinct_states"] > 10, section
    assert set(section["rules"]) >= {"create_share", "grant", "change_access", "restart",
                                     "snapshot", "share_from_snapshot", "extend", "shrink", "revert"}
    assert section["data_path"] is False and NOT_OBSERVABLE in section["notes"]
    outcomes = {c["feature"]: c["outcome"] for c in report["checks"]}
    assert outcomes == {f: "passed" for f in EXPLORED}, outcomes
    for feature in EXPLORED:
        assert report["features"][feature]["status"] == "verified", feature
    assert not report["leaks"]
    assert section["database"] == str(tmp_path / "explore-db")


def test_the_same_seed_draws_the_same_sequences(dummy_profile, tmp_path):
    run = CertificationRun(dummy_profile)
    from manila import context

    dut = run.driver()
    models = run.model_factory(None)
    claims = claims_of(dummy_profile, data_path=False)

    def sequences() -> list[list[str]]:
        made = []
        factory = executor_factory(run, dut, context.get_admin_context(), models, None)

        def new():
            made.append(factory())
            return made[-1]

        explore(claims, new, ExploreOptions(budget=300, steps=8, seed=11, examples=15))
        return [[str(s) for s in ex.steps] for ex in made]

    first, second = sequences(), sequences()
    assert len(first) >= 15 and first == second
    run.finish_cleanup()
    assert not run.ledger.leaks and not run.ledger.outstanding()


def test_broken_driver_is_found_shrunk_and_replayed_from_the_file(tmp_path, dummy_profile, capsys):
    """Full-list mode (empty add and delete lists) refused: no hand-written case is named, the
    exploration finds it, shrinks it, and the replay file reproduces it; against the
    unmodified DummyDriver the same file passes."""
    from tests.broken.lifecycle import RecoveryModeUnsupported

    options = ExploreOptions(budget=90, steps=20, seed=5, directory=tmp_path)
    report = run_certification(dummy_profile, suites=["explore"], driver_class=RecoveryModeUnsupported,
                               explore_options=options, audit=False).report
    found = report["explore"]["counterexample"]
    assert found and found["divergence"], found
    assert "update_access" in found["failure"] and found["features"] == ["share"]
    # Shrunk to the one call that breaks: one rule granted in full-list (sync) mode, by either
    # grant rule (a pool identity's, or a crowd of one).
    assert [s["rule"] for s in found["steps"]] in (["create_share", "grant"],
                                                   ["create_share", "grant_crowd"]), found["steps"]
    grant = found["steps"][1]["args"]
    assert grant["mode"] == "sync" and len(grant.get("rules", [None])) == grant.get("count", 1) == 1, grant
    failed = [c for c in report["checks"] if c["outcome"] == "failed"]
    assert [c["feature"] for c in failed] == ["share"] and report["verdict"] == "failed"
    assert report["scope"] == ["explore"], "an exploration alone is a suite-scoped run"
    assert "exploration diverged" in failed[0]["message"] and "certkit replay" in failed[0]["message"]
    steps, data = read_replay(found["replay_file"])
    assert [s.to_json() for s in steps] == found["steps"] and data["seed"] == 5
    broken_profile = _profile_with_driver(tmp_path, "tests.broken.lifecycle.RecoveryModeUnsupported")
    assert cli.main(["replay", found["replay_file"], "--profile", str(broken_profile)]) == 1
    assert "reproduced: step 2" in capsys.readouterr().out
    assert cli.main(["replay", found["replay_file"], "--profile", str(DUMMY_PROFILE)]) == 0
    assert "passed: all 2 step(s)" in capsys.readouterr().out


@pytest.mark.parametrize("content,message", [
    ("{", "not JSON"), ('{"kind": "x"}', "kind: not a certkit replay file"),
    ('{"kind": "certkit-explore-replay", "format": 1, "steps": [{"rule": "rm -rf"}]}',
     "steps[0]: unknown rule 'rm -rf'")])
def test_a_bad_replay_file_is_one_line_naming_the_field(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert cli.main(["replay", str(path), "--profile", str(DUMMY_PROFILE)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_mid_step_deletes_everything_the_exploration_created(tmp_path):
    """The journaling driver blocks in create_snapshot: Ctrl-C there, mid-step; every share and
    snapshot created (the one being created included) is deleted, and the report is written."""
    journal = tmp_path / "journal"
    profile = _profile_with_driver(tmp_path, "tests.broken.lifecycle.JournalingDriver")
    report_path = tmp_path / "report.json"
    env = {**os.environ, "CERTKIT_TEST_JOURNAL": str(journal), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "certkit.cli", "run", str(profile), "--no-audit", "--suite", "explore",
         "--explore-seed", "2", "--explore-budget", "120", "--report", str(report_path)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while not (journal.exists() and "create_snapshot" in journal.read_text()):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail(f"the exploration never reached create_snapshot: {proc.communicate()}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err
    lines = journal.read_text().split("\n")
    created = {line.split()[1] for line in lines if line.startswith("create_")}
    deleted = {line.split()[1] for line in lines if line.startswith("delete_")}
    assert created and created <= deleted, created - deleted
    report = json.loads(report_path.read_text())
    assert report["interrupted"] is True and not report["leaks"]
    assert report["verdict"] == "failed" and report["scope"] == ["explore"]


def test_the_model_is_what_manilas_api_promises():
    """The reference itself: snapshots are point-in-time, clones independent, reverts restore
    files and size, a shrink below the data in use is refused, and the API's own refusals."""
    from certkit.explore.model import Refused, ShareModel

    model = ShareModel()
    model.create_share("s1", 2)
    model.write("s1", "a", "v1")
    model.snapshot("snap1", "s1")
    model.write("s1", "a", "v2")
    model.resize("s1", 3)
    model.share_from_snapshot("s2", "snap1", 4)
    model.write("s2", "b", "clone-only")
    assert model.shares["s2"].files == {"a": "v1", "b": "clone-only"}
    assert model.shares["s1"].files == {"a": "v2"}, "a clone's write reached its parent"
    model.revert("snap1")
    assert (model.shares["s1"].files, model.shares["s1"].size) == ({"a": "v1"}, 2)
    model.fill("s1", 1088)
    with pytest.raises(Refused):
        model.resize("s1", 1)
    assert model.shares["s1"].size == 2
    with pytest.raises(ValueError, match="smaller than its snapshot"):
        model.share_from_snapshot("s3", "snap1", 1)
    with pytest.raises(ValueError, match="has snapshots"):
        model.delete_share("s1")
    model.snapshot("snap2", "s1")
    with pytest.raises(ValueError, match="latest snapshot only"):
        model.revert("snap1")
    model.set_rules("s2", {"id1": "ro"})
    assert model.level("id1", "s2") == "ro" and model.level("id1", "s1") is None


class _SlowModelOnly:
    """A back end that is only the model, each step costing `cost` seconds of a fake clock; any
    `grant` diverges (a stand-in for a slow lab where shrinking is dear)."""

    def __init__(self, clock: list[float], cost: float) -> None:
        from certkit.explore.model import ShareModel
        self.model, self.steps, self.clock, self.cost = ShareModel(), [], clock, cost

    def apply(self, step) -> None:
        self.steps.append(step)
        self.clock[0] += self.cost
        args = step.args
        if step.rule == "grant":
            raise AssertionError("granted")
        if step.rule == "create_share":
            self.model.create_share(args["share"], args["size"])
        elif step.rule == "delete_share":
            self.model.delete_share(args["share"])

    def observe(self) -> None:
        pass

    def cleanup(self) -> None:
        pass


def test_the_budget_bounds_shrinking_and_the_shortest_failure_is_reported(monkeypatch):
    from types import SimpleNamespace

    from certkit.explore import exploration, machine
    from certkit.explore.machine import Claims

    clock = [0.0]
    fake_time = SimpleNamespace(monotonic=lambda: clock[0])
    monkeypatch.setattr(machine, "time", fake_time)
    monkeypatch.setattr(exploration, "time", fake_time)
    claims = Claims(frozenset({"share"}), ("rw", "ro"), data_path=False)
    made: list[_SlowModelOnly] = []

    def new():
        made.append(_SlowModelOnly(clock, cost=10.0))
        return made[-1]

    budget = 400.0
    result = explore(claims, new, ExploreOptions(budget=budget, steps=8, seed=5))
    found = result.counterexample
    assert found is not None and found.divergence, result.to_report()
    assert found.steps[-1].rule == "grant" and "granted" in found.failure
    # Without the bound Hypothesis runs hundreds of shrinking examples (about 500 here, model
    # only); with it the run stops at most half a budget after the find (itself at most one
    # step past the budget), plus the step under way.
    assert clock[0] <= budget * 1.5 + 2 * 10.0, clock[0]
    assert "not fully shrunk" in found.failure or len(found.steps) <= 2, found.failure
    assert min(len(ex.steps) for ex in made if ex.steps and ex.steps[-1].rule == "grant") == len(found.steps)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_the_power_benchmark_passes_ctrl_c_to_its_run_and_leaves_nothing(tmp_path):
    """benchmarks/explore_power.py runs each driver in a `certkit run` child: Ctrl-C (or a
    SIGTERM) reaches that child, which cleans up, and the benchmark exits 130 without results."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    bench = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "explore_power.py"), "--family", "dummy",
                              "--only", "ExtendRaisesBare", "--budget", "120"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    try:
        # the signal goes as soon as the child explores (its example database exists): on a
        # quiet machine it finds this driver within seconds, and a fixed wait let it end first
        while not (list(tmp_path.glob("certkit-explore-power-*/explore-db/*"))
                   and _processes_mentioning(str(tmp_path))):
            assert bench.poll() is None and time.monotonic() < deadline, ("no certkit run child",
                                                                          bench.communicate())
            time.sleep(0.05)
        bench.send_signal(signal.SIGINT)
        out, err = bench.communicate(timeout=120)
    finally:
        if bench.poll() is None:
            bench.kill()
    assert bench.returncode == 130, (out, err)
    assert "stopped by signal 2" in err, err
    assert _processes_mentioning(str(tmp_path)) == [], "the certkit run child outlived the benchmark"
    assert list(tmp_path.iterdir()) == [], "the benchmark's temporary directory was left"


def _explore_in_process(run: CertificationRun, options: ExploreOptions) -> tuple[list, object]:
    """An exploration of the run's driver without a client host: (every example's executor,
    the result); the run cleaned up after."""
    from manila import context

    factory = executor_factory(run, run.driver(), context.get_admin_context(), run.model_factory(None), None)
    made: list = []

    def new():
        made.append(factory())
        return made[-1]

    try:
        return made, explore(claims_of(run.profile, data_path=False), new, options)
    finally:
        run.finish_cleanup()


def test_every_step_is_drawn_by_fair_rules(dummy_profile, monkeypatch):
    """FairRules subclasses Hypothesis' non-public RuleStrategy and replaces the machine's
    `_rules_strategy`: if a Hypothesis upgrade stops drawing rules through that attribute (or
    renames what FairRules reads), exploration silently falls back to Hypothesis' own choice,
    which starves `deny` (benchmarks/explore_fairness.py). Every step must come from FairRules."""

    from certkit.explore import machine

    drawn: list[str] = []
    fair_draw = machine.FairRules.do_draw

    def counted(self, data):
        rule, args = fair_draw(self, data)
        drawn.append(rule.function.__name__)
        return rule, args

    monkeypatch.setattr(machine.FairRules, "do_draw", counted)
    made, _ = _explore_in_process(CertificationRun(dummy_profile), ExploreOptions(budget=300, steps=8, seed=3, examples=20))
    taken = [s.rule for ex in made for s in ex.steps]
    # Every step was drawn by FairRules; a drawn rule may not run when the example's choices
    # run out while it draws its arguments (Hypothesis caps the choices of a test case), which
    # ends the example: at most one such draw per example.
    assert taken and len(taken) <= len(drawn) <= len(taken) + len(made), (len(drawn), len(taken))
    assert sorted(set(drawn)) == sorted(set(taken))


def test_writes_go_through_a_pool_identity_never_a_crowd_client():
    """Crowd identities have no client (over NFS their 100.64.x addresses are not routed to the
    client host): a write on a share where a crowd rule is rw goes through the pool's rw
    identity, and a share where only crowd rules are rw is not drawn for a write. Found on
    cephfs-nfs: `c1` sorted first and its write timed out (docs/findings/explore-crowd-writer.md)."""
    from types import SimpleNamespace

    from certkit.explore.model import ShareModel
    from certkit.explore.observers import ClientObserver

    model = ShareModel()
    model.create_share("s1", 1)
    model.shares["s1"].rules.update({"c1": "rw", "c2": "rw", "id3": "ro", "id2": "rw"})
    mounted: list[str] = []
    observer = ClientObserver(SimpleNamespace())
    observer._mount = lambda ex, share, identity: mounted.append(identity) or f"/m/{identity}"
    assert observer._writer(SimpleNamespace(model=model), "s1") == "/m/id2" and mounted == ["id2"]


class RemembersTheSharesItMade:
    """A DummyDriver that remembers the shares it made and looks every one up on each access
    change; a share deleted through another instance (the one a restart made) is still
    remembered, and the look-up fails. Right within the life of an instance, as the share
    manager uses one: a restart replaces the old instance for good."""

    deleted: set[str] = set()
    """The back end's record of deleted shares (outlives every instance)."""

    @staticmethod
    def driver() -> type:
        from manila.tests.share.drivers.dummy import DummyDriver

        class Remembers(DummyDriver):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.made: set[str] = set()

            def create_share(self, context, share, share_server=None):
                self.made.add(share["id"])
                return super().create_share(context, share, share_server)

            def delete_share(self, context, share, share_server=None):
                self.made.discard(share["id"])
                RemembersTheSharesItMade.deleted.add(share["id"])
                return super().delete_share(context, share, share_server)

            def update_access(self, context, share, *args, **kwargs):
                gone = self.made & RemembersTheSharesItMade.deleted
                assert not gone, f"shares {sorted(gone)} are gone from the back end"
                return super().update_access(context, share, *args, **kwargs)

        return Remembers


def test_an_example_never_meets_a_driver_instance_an_earlier_one_replaced(dummy_profile):
    """Each example starts from a driver instance no other example used, as a replay does: an
    earlier example's restart replaced the run's instance, and reusing that instance made a later
    example fail on what the earlier one left (found on the Ceph lab: a broken driver's state
    from one sequence failing the next, so the find was 'flaky' or could not be shrunk)."""
    run = CertificationRun(dummy_profile)
    run.driver_class = RemembersTheSharesItMade.driver()
    made, result = _explore_in_process(run, ExploreOptions(budget=300, steps=10, seed=2, examples=40))
    restarted = [n for n, ex in enumerate(made[:-1]) if ex.restarts]
    assert restarted, "no example restarted: the seed no longer tests this"
    assert result.counterexample is None, result.counterexample.failure
    assert len({id(ex.res.driver) for ex in made if not ex.restarts}) == len([ex for ex in made if not ex.restarts])


def test_each_example_grants_cephx_identities_of_its_own():
    """cephx identities are cluster-wide objects that outlive a share: each example's carry its
    number (and the run id, which the lab's checks look for), so a broken deny's identity left
    by one example is never granted again by the next; addresses stay the client host's."""
    from types import SimpleNamespace

    from certkit.explore.executor import Backend, Executor

    def executor(access_type: str, example: int) -> Executor:
        res = SimpleNamespace(models=SimpleNamespace(run_id="0a1b2c3d"),
                              access_to=lambda kind, n: {"ip": f"198.51.100.{n}"}[kind])
        return Executor(Backend(res, None, None, "CEPHFS", access_type), None, example)

    first, second = executor("cephx", 1), executor("cephx", 2)
    names = {ex.access_to(i) for ex in (first, second) for i in ("id1", "id2", "c1")}
    assert len(names) == 6 and all(n.startswith("certkit-0a1b2c3d-") for n in names), names
    assert executor("ip", 1).access_to("id1") == executor("ip", 2).access_to("id1") == "198.51.100.200"
