"""The Gerrit double's `gerrit query` as real Zuul 14 uses it (issue 23): the `message:` operator
of Zuul's needed-by search, and no change visible before its first patch set (Zuul failed on
such a row and dropped another change's event when two were uploaded at once)."""

from __future__ import annotations

import json

import certkit.ci.gerritdouble as gerritdouble
from tests.ci.conftest import commit_change

ZUUL_QUERY = ["--format", "json", "--commit-message", "--current-patch-set"]


def _rows(double, query: str) -> list[dict]:
    status, out, err = double._query([*ZUUL_QUERY, query])
    assert status == 0, err
    return [json.loads(line) for line in out.splitlines() if '"stats"' not in line]


def test_message_operator_matches_the_commit_message(gerrit, manila_source):
    gerrit.create_project("openstack/manila", manila_source)
    commit_change(manila_source, "First\n\nDepends-On: I1234", "one")
    gerrit.upload_patchset("openstack/manila", 7001, manila_source)
    commit_change(manila_source, "Second", "two")
    gerrit.upload_patchset("openstack/manila", 7002, manila_source)
    assert [r["number"] for r in _rows(gerrit, "message:{I1234}")] == [7001]
    assert _rows(gerrit, "message:{I9999}") == []


def test_no_change_is_visible_before_its_patch_set(gerrit, manila_source, monkeypatch):
    gerrit.create_project("openstack/manila", manila_source)
    commit_change(manila_source, "Uploaded while Zuul queries", "race")
    seen: list[list[dict]] = []
    real_git = gerritdouble._git

    def git_then_query(*args, **kwargs):
        if args and args[0] == "push":  # the upload is half-way: Zuul's query arrives now
            seen.append(_rows(gerrit, "message:{Uploaded}"))
            seen.append(_rows(gerrit, "status:open"))
        return real_git(*args, **kwargs)

    monkeypatch.setattr(gerritdouble, "_git", git_then_query)
    gerrit.upload_patchset("openstack/manila", 7003, manila_source)
    assert seen, "the upload never pushed"
    assert all("currentPatchSet" in row for rows in seen for row in rows), seen
    assert [r["number"] for r in _rows(gerrit, "message:{Uploaded}")] == [7003]
