"""Hostile input to the live tier, without a lab: `certkit run --suite explore --explore-tier api`
and `certkit replay FILE --explore-tier api` against an unreachable or wrong Manila target, a
hostile profile, and hostile replay files. Each ends with one line naming the file and field
(or the target), exit 2, no traceback, and the target's password nowhere in the output; nothing
reaches Manila (the checks run before any request)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import DUMMY_PROFILE, run_certkit

PASSWORD = 's3cr3t-"{{ pw }}\'-x'
UNREACHABLE = {"OS_AUTH_URL": "http://127.0.0.1:9/v3", "OS_USERNAME": "admin",
               "OS_PASSWORD": PASSWORD, "OS_PROJECT_NAME": "admin"}
LONG = "x" * 100_000


def _one_line_error(proc, *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("certkit: error:")]
    assert len(errors) == 1 and len(errors[0]) < 1000, lines
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "s3cr3t" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    return {**env, "CERTKIT_MANILA_LAB_DIR": str(tmp_path / "no-lab"), **extra}


def _replay_file(tmp_path: Path, steps, **fields) -> Path:
    path = tmp_path / "replay.json"
    data = {"format": 1, "kind": "certkit-explore-replay", "profile": "manila-dummy",
            "driver": "x", "seed": 1, "failure": "", "steps": steps, **fields}
    path.write_text(json.dumps(data))
    return path


def test_an_unreachable_target_is_one_line_before_anything_runs(tmp_path):
    env = _env(tmp_path, **UNREACHABLE)
    report = tmp_path / "report.json"
    run = run_certkit("run", str(DUMMY_PROFILE), "--suite", "explore", "--explore-tier", "api",
                      "--no-audit", "--report", str(report), env=env, timeout=300)
    _one_line_error(run, "cannot reach Keystone at http://127.0.0.1:9/v3")
    assert not report.exists() and "certifying" not in run.stderr
    good = _replay_file(tmp_path, [{"rule": "create_share", "args": {"share": "s1", "size": 1}}])
    replay = run_certkit("replay", str(good), "--profile", str(DUMMY_PROFILE), "--explore-tier",
                         "api", env=env, timeout=300)
    _one_line_error(replay, "cannot reach Keystone")


def test_no_target_at_all_names_the_fix(tmp_path):
    run = run_certkit("run", str(DUMMY_PROFILE), "--suite", "explore", "--explore-tier", "api",
                      "--no-audit", env=_env(tmp_path), timeout=300)
    _one_line_error(run, "certkit lab up manila --profile")


def test_a_hostile_profile_is_refused_by_field(tmp_path):
    text = DUMMY_PROFILE.read_text()
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(re.sub(r"^name: .*$", 'name: "a\\"b\\n{{ lookup(\'env\', \'OS_PASSWORD\') }}'
                              + "y" * 5000 + '"', text, count=1, flags=re.M))
    run = run_certkit("run", str(hostile), "--suite", "explore", "--explore-tier", "api",
                      "--no-audit", env=_env(tmp_path, **UNREACHABLE), timeout=300)
    _one_line_error(run, str(hostile), "name:")


CREATE = {"rule": "create_share", "args": {"share": "s1", "size": 1}}
GRANT = {"rule": "grant", "args": {"share": "s1", "rules": [["id1", "rw"]], "mode": "delta"}}


@pytest.mark.parametrize("steps, field", [
    ([{"rule": "create_share", "args": {"share": 's1"; DROP TABLE shares; --', "size": 1}}],
     "steps[0].args.share"),
    ([{"rule": "create_share", "args": {"share": "s1\nX-Auth-Token: stolen", "size": 1}}],
     "steps[0].args.share"),
    ([{"rule": "create_share", "args": {"share": LONG, "size": 1}}], "steps[0].args.share"),
    ([{"rule": "create_share", "args": {"share": "s1", "size": "1"}}], "steps[0].args.size"),
    ([{"rule": "create_share", "args": {"share": "s1", "size": True}}], "steps[0].args.size"),
    ([{"rule": "create_share", "args": {"share": "s1", "size": 10 ** 12}}], "steps[0].args.size"),
    ([{"rule": "create_share", "args": {"share": "s1"}}], "steps[0].args.size: missing"),
    ([{"rule": "create_share", "args": {"share": "s1", "size": 1, "{{ x }}": 1}}],
     "steps[0].args: unknown argument"),
    ([CREATE, {"rule": "grant", "args": {"share": "s1", "rules": [["{{ OS_PASSWORD }}", "rw"]],
                                         "mode": "delta"}}], "steps[1].args.rules"),
    ([CREATE, {"rule": "grant", "args": {"share": "s1", "rules": [["id1", "admin"]],
                                         "mode": "delta"}}], "steps[1].args.rules"),
    ([CREATE, {"rule": "grant_crowd", "args": {"share": "s1", "first": 1, "count": 10 ** 9,
                                               "level": "rw", "mode": "sync"}}],
     "steps[1].args.count"),
    ([CREATE, {"rule": "deny", "args": {"share": "s1", "identities": [], "mode": "delta"}}],
     "steps[1].args.identities"),
    ([{"rule": "delete_share", "args": {"share": "s7"}}], "'s7' is not created by an earlier step"),
    ([CREATE, {"rule": "revert", "args": {"snapshot": "snap1"}}], "steps[1].args.snapshot"),
    # steps that cannot follow the ones before them (replayed, each would end as a false
    # "divergence" of the driver: a KeyError from the model, not the driver's fault)
    ([CREATE, {"rule": "deny", "args": {"share": "s1", "identities": ["c3"], "mode": "delta"}}],
     "steps[1].args.identities: 'c3' has no rule on share 's1'"),
    ([CREATE, {"rule": "reapply", "args": {"share": "s1", "identities": ["id2"]}}],
     "steps[1].args.identities: 'id2' has no rule"),
    ([CREATE, {"rule": "change_access", "args": {"share": "s1", "add": [["id3", "rw"]], "deny": ["c4"]}}],
     "steps[1].args.deny: 'c4' has no rule"),
    ([CREATE, GRANT, GRANT], "steps[2].args.rules: 'id1' already has a rule"),
    ([CREATE, {"rule": "write", "args": {"share": "s1", "path": "a", "content": "x"}}],
     "steps[1].args.share: no identity of id1, id2, id3 has a rw rule"),
    ([CREATE, {"rule": "delete_share", "args": {"share": "s1"}},
      {"rule": "extend", "args": {"share": "s1", "size": 2}}], "steps[2].args.share: 's1' was deleted by steps[1]"),
    ([CREATE, {"rule": "snapshot", "args": {"snapshot": "snap2", "share": "s1"}},
      {"rule": "delete_share", "args": {"share": "s1"}}], "steps[2].args.share: share 's1' still has snapshots"),
    ([CREATE, {"rule": "snapshot", "args": {"snapshot": "snap2", "share": "s1"}},
      {"rule": "snapshot", "args": {"snapshot": "snap3", "share": "s1"}},
      {"rule": "revert", "args": {"snapshot": "snap2"}}], "steps[3].args.snapshot: 'snap2' is not the latest"),
    ([{"rule": "create_share", "args": {"share": "s1", "size": 3}},
      {"rule": "snapshot", "args": {"snapshot": "snap2", "share": "s1"}},
      {"rule": "share_from_snapshot", "args": {"share": "s3", "snapshot": "snap2", "size": 2}}],
     "steps[2].args.size: 2 GiB is smaller than snapshot"),
    ([CREATE, {"rule": "shrink", "args": {"share": "s1", "size": 1}}], "steps[1].args.size: 1 GiB does not shrink"),
    ([CREATE, CREATE], "steps[1].args.share: 's1' is created twice"),
])
def test_a_hostile_replay_file_is_refused_by_field(tmp_path, steps, field):
    from certkit.errors import CertkitError
    from certkit.explore.steps import read_replay

    path = _replay_file(tmp_path, steps)
    with pytest.raises(CertkitError) as refused:
        read_replay(path)
    line = str(refused.value)
    assert line.startswith(f"{path}: ") and field in line, line
    assert "\n" not in line and len(line) < 300, line


def test_a_hostile_replay_file_is_one_line_from_the_command_on_both_tiers(tmp_path):
    path = _replay_file(tmp_path, [{"rule": "create_share",
                                    "args": {"share": "s1\n{{ OS_PASSWORD }}" + LONG, "size": 1}}])
    for tier in (["--explore-tier", "api"], []):
        proc = run_certkit("replay", str(path), "--profile", str(DUMMY_PROFILE), *tier,
                           env=_env(tmp_path, **UNREACHABLE), timeout=300)
        line = _one_line_error(proc, str(path), "steps[0].args.share")
        assert LONG not in line


def test_the_replay_files_the_exploration_writes_pass_the_check(tmp_path):
    from certkit.explore.steps import Step, read_replay, write_replay

    steps = [Step("create_share", {"share": "s1", "size": 2}),
             Step("snapshot", {"snapshot": "snap2", "share": "s1"}),
             Step("share_from_snapshot", {"share": "s3", "snapshot": "snap2", "size": 3}),
             Step("grant", {"share": "s3", "rules": [["id1", "rw"], ["id2", "ro"]], "mode": "sync"}),
             Step("grant_crowd", {"share": "s3", "first": 1, "count": 101, "level": "ro",
                                  "mode": "delta"}),
             Step("change_access", {"share": "s3", "add": [["id3", "rw"]], "deny": ["c5"]}),
             Step("deny", {"share": "s3", "identities": ["id1", "c7"], "mode": "delta"}),
             Step("restart", {}), Step("revert", {"snapshot": "snap2"}),
             Step("grant", {"share": "s1", "rules": [["id2", "rw"]], "mode": "delta"}),
             Step("write", {"share": "s1", "path": "a", "content": "a-v7"}),
             Step("fill", {"share": "s1", "mib": 1088}), Step("shrink", {"share": "s1", "size": 1}),
             Step("shrink", {"share": "s1", "size": 1}),
             Step("delete_snapshot", {"snapshot": "snap2"}), Step("delete_share", {"share": "s1"})]
    path = tmp_path / "ok.json"
    write_replay(path, steps, profile="p", driver="d", seed=1, failure="")
    assert read_replay(path)[0] == steps
