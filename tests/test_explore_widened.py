"""The exploration's options are refused in one line before a run prints anything, and the
steps that widen the model to what Manila allows (a crowd of rules on one share, rules the
manager sends again) run and are judged: a replay file of each passes on the DummyDriver and
diverges on the broken driver whose fault it reaches (tests/broken/extended.py)."""

from __future__ import annotations

import json

import pytest

from certkit import cli
from certkit.explore.executor import crowd, crowd_address, crowd_start
from tests.conftest import DUMMY_PROFILE, ROOT


@pytest.mark.parametrize("option,value,message", [
    ("--explore-budget", "-3", "must be a positive number of seconds"),
    ("--explore-budget", "nan", "must be a positive number of seconds"),
    ("--explore-budget", "inf", "must be a positive number of seconds"),
    ("--explore-steps", "x", "must be an integer of at least 1"),
    ("--explore-steps", "0", "must be an integer of at least 1"),
    ("--explore-seed", "-1", "must be an integer in 0..4294967295"),
    ("--explore-examples", "1.5", "must be an integer of at least 1"),
    ("--explore-max-size", "0", "must be a whole number of GiB, at least 1"),
    ("--explore-max-rules", "0", "must be an integer of at least 1"),
    ("--explore-tier", "bogus", "must be one of driver, api"),
])
def test_a_bad_explore_option_is_one_line_before_anything_runs(capsys, option, value, message):
    assert cli.main(["run", str(DUMMY_PROFILE), "--suite", "explore", option, value]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == f"certkit: error: {option} {value}: {message}", err


def test_crowd_identities_never_collide_with_the_pool_or_each_other():
    assert crowd(3, 2) == ["c3", "c4"] and crowd_start({"id1": "rw", "c1": "ro", "c7": "rw"}) == 8
    addresses = {crowd_address("ip", k, "r1") for k in range(1, 1001)}
    assert len(addresses) == 1000 and not any(a.startswith("198.51.100.") for a in addresses)


def _replay_file(tmp_path, steps: list[dict]) -> str:
    path = tmp_path / "replay.json"
    path.write_text(json.dumps({"format": 1, "kind": "certkit-explore-replay", "steps": steps}))
    return str(path)


def _profile(tmp_path, driver: str) -> str:
    path = tmp_path / "profile.yaml"
    path.write_text((ROOT / "driver_profiles" / "manila-dummy.yaml").read_text()
                    .replace("manila.tests.share.drivers.dummy.DummyDriver", driver))
    return str(path)


@pytest.mark.parametrize("steps,broken,diverges_at", [
    ([{"rule": "create_share", "args": {"share": "s1", "size": 1}},
      {"rule": "grant_crowd", "args": {"share": "s1", "first": 1, "count": 101, "level": "rw",
                                       "mode": "delta"}}],
     "tests.broken.extended.RulesBeyondHundredFail", 2),
    ([{"rule": "create_share", "args": {"share": "s1", "size": 1}},
      {"rule": "grant", "args": {"share": "s1", "rules": [["id1", "ro"]], "mode": "delta"}},
      {"rule": "reapply", "args": {"share": "s1", "identities": ["id1"]}}],
     "tests.broken.extended.ReappliedRuleRaises", 3),
])
def test_widened_steps_pass_on_the_dummy_and_reach_their_broken_driver(tmp_path, capsys, steps,
                                                                       broken, diverges_at):
    replay = _replay_file(tmp_path, steps)
    assert cli.main(["replay", replay, "--profile", str(DUMMY_PROFILE)]) == 0
    assert f"passed: all {len(steps)} step(s)" in capsys.readouterr().out
    assert cli.main(["replay", replay, "--profile", _profile(tmp_path, broken)]) == 1
    assert f"reproduced: step {diverges_at}" in capsys.readouterr().out
