"""Untrusted data is data: every Gerrit-controlled field of an event, filled with Jinja and
lookup('pipe') payloads, goes through the listener, the queue and the real ansible-playbook,
is printed by a playbook, and nothing runs: no marker file appears, every value arrives raw."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from certkit.ci.config import load_ci_config
from certkit.ci.events import EventError, change_of
from certkit.ci.listener import Listener
from certkit.ci.unsafe import UnsafeText, mark_unsafe, unsafe_dump, unsafe_load
from certkit.ci.workspace import unreasonable_project_name
from tests.ci.conftest import git, make_source, write_ci_config

FIELDS = ("project", "branch", "subject", "body", "topic", "url", "owner_name", "owner_email",
          "uploader_name", "uploader_email", "ref", "file", "comment")

PRINT = """\
- hosts: all
  gather_facts: false
  vars:
    indirect: "{{ zuul.change_message }}"
  tasks:
    - debug: {msg: "project={{ zuul.project.name }}"}
    - debug: {msg: "branch={{ zuul.branch }}"}
    - debug: {msg: "message={{ zuul.change_message }}"}
    - debug: {msg: "decoded={{ zuul.message | b64decode }}"}
    - debug: {msg: "topic={{ zuul.topic }}"}
    - debug: {msg: "url={{ zuul.change_url }}"}
    - debug: {msg: "indirect={{ indirect }}"}
    - name: what the playbook saw, for an exact comparison
      copy:
        dest: "{{ zuul.executor.log_root }}/seen.json"
        content: "{{ {'project': zuul.project.name, 'canonical': zuul.project.canonical_name,
                      'src_dir': zuul.project.src_dir, 'branch': zuul.branch,
                      'checkout': zuul.projects[zuul.project.canonical_name].checkout,
                      'message': zuul.change_message, 'decoded': zuul.message | b64decode,
                      'topic': zuul.topic, 'url': zuul.change_url, 'ref': zuul.ref,
                      'item_message': zuul['items'][0]['change_url'],
                      'indirect': indirect} | to_json }}"
"""


def payloads(markers: Path) -> dict[str, str]:
    """One payload per field; each would create its own marker file if it were evaluated."""
    out = {}
    for i, name in enumerate(FIELDS):
        target = markers / name
        kind = i % 3
        if kind == 0:
            out[name] = f"{{{{ lookup('pipe', 'touch {target}') }}}}"
        elif kind == 1:
            out[name] = f"{{% if lookup('pipe', 'touch {target}') %}}x{{% endif %}}"
        else:
            out[name] = f"{{{{ query('pipe', 'touch {target}') }}}} {{# c #}} {{{{ 7*7 }}}}"
    # A project name must stay one Gerrit accepts (no '|', '$', ':', '//' ...).
    out["project"] = f"acme/{out['project']}"
    out["branch"] = f"stable/{out['branch']}"
    out["url"] = f"https://review.example.org/c/{out['url']}"
    out["ref"] = f"refs/changes/{out['ref']}"
    out["comment"] = f"recheck {out['comment']}"
    return out


def jobs_repo(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "zuul.yaml").write_text("- job: {name: show, parent: null, run: show.yaml}\n")
    (root / "show.yaml").write_text(PRINT)
    return root


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_payloads_in_every_gerrit_field_never_run(tmp_path, gerrit):
    markers = tmp_path / "markers"
    markers.mkdir()
    raw = payloads(markers)
    source = make_source(tmp_path / "src")
    gerrit.create_project(raw["project"], source)
    (source / "README").write_text("change\n")
    git("add", "-A", cwd=source)
    git("commit", "-q", "-m", f"{raw['subject']}\n\n{raw['body']}", cwd=source)
    message = f"{raw['subject']}\n\n{raw['body']}\n"
    owner = {"name": raw["owner_name"], "email": raw["owner_email"], "username": "jane"}
    uploader = {"name": raw["uploader_name"], "email": raw["uploader_email"], "username": "u"}
    gerrit.upload_patchset(raw["project"], 4711, source, branch=raw["branch"],
                           files=[raw["file"]], emit=False)
    record = gerrit.changes[4711]  # what Gerrit says about the change, in events and queries
    record.message, record.topic, record.url, record.owner = message, raw["topic"], raw["url"], owner
    event = {"type": "patchset-created", "change": record.row(gerrit.web_url),
             "patchSet": {**record.patch_sets[0], "ref": raw["ref"], "uploader": uploader,
                          "author": owner},
             "uploader": uploader, "eventCreatedOn": int(time.time())}
    event["patchSet"].pop("files")
    event["uploader"] = uploader
    config = load_ci_config(write_ci_config(
        tmp_path, gerrit,
        pipeline={"projects": [{"name": raw["project"], "files": [".*"]}], "jobs": ["show"],
                  "zuul_config": [str(jobs_repo(tmp_path / "jobs"))], "concurrency": 1},
        report={"mode": "dry-run"}))
    listener = Listener(config)
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    try:
        gerrit.wait_for_subscriber()
        gerrit.emit(event)
        wait_for(lambda: listener.queue.in_state("reported"), 120, "the build and its report")
        gerrit.add_comment(4711, 1, owner, raw["comment"])  # a recheck whose text is a payload
        wait_for(lambda: listener.queue.in_state("queued", "running"), 30, "the recheck queued")
    finally:
        listener.stop()
        thread.join(timeout=60)
        listener.queue.close()
    assert sorted(p.name for p in markers.iterdir()) == []
    seen_files = sorted(config.state_dir.glob("logs/**/seen.json"))
    assert len(seen_files) == 1
    expected = {
        "project": raw["project"], "canonical": f"review.example.org/{raw['project']}",
        "src_dir": f"src/review.example.org/{raw['project']}", "branch": raw["branch"],
        "checkout": raw["branch"], "message": message, "decoded": message,
        "topic": raw["topic"], "url": raw["url"], "ref": "refs/changes/11/4711/1",
        "item_message": raw["url"], "indirect": message}
    assert json.loads(seen_files[0].read_text()) == expected
    text = seen_files[0].with_name("job-output.txt").read_text()
    for line in (f"project={raw['project']}", f"branch={raw['branch']}", f"topic={raw['topic']}",
                 f"url={raw['url']}"):
        assert json.dumps(line) in text, line  # ansible's debug prints the msg as JSON
    assert text.count("{{ 7*7 }}") >= 4  # printed as written, never evaluated


def test_unsafe_yaml_is_what_ansible_reads(tmp_path):
    data = {"zuul": mark_unsafe({"a": "{{ x }}", "b": ["{% y %}", 3, None, True], "n": 1})}
    text = unsafe_dump(data)
    assert "!unsafe '{{ x }}'" in text and "!unsafe '{% y %}'" in text and "n: 1" in text
    back = unsafe_load(text)
    assert back == {"zuul": {"a": "{{ x }}", "b": ["{% y %}", 3, None, True], "n": 1}}
    assert isinstance(back["zuul"]["a"], UnsafeText)


@pytest.mark.parametrize("name, reason", [
    ("../../etc", "starts with"), ("/abs", "starts or ends"), ("a/../b", "'/../'"),
    ("a//b", "'//'"), ("x|y", "'|'"), ("$(id)", "'$'"), ("a\nb", "control"), ("", "empty"),
    ("-upload-pack=x", "starts with"), ("a/..", "ends with"), ("repo.git/x", "'.git/'"),
])
def test_unreasonable_project_names_are_refused(name, reason):
    assert reason in (unreasonable_project_name(name) or "")
    event = {"type": "patchset-created",
             "change": {"project": name, "branch": "master", "number": 1},
             "patchSet": {"number": 1, "revision": "a" * 40}}
    with pytest.raises(EventError) as info:
        change_of(event)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("good", ["openstack/manila", "acme/{{ x }} (y)", "a.b/c-d_e"])
def test_reasonable_project_names_pass(good):
    assert unreasonable_project_name(good) is None


def test_hostile_revision_and_numbers_are_refused():
    base = {"type": "patchset-created",
            "change": {"project": "openstack/manila", "branch": "master", "number": 1},
            "patchSet": {"number": 1}}
    for patch in ({"revision": "{{ lookup('pipe', 'id') }}"}, {"revision": "--upload-pack=x"}):
        with pytest.raises(EventError, match="revision"):
            change_of({**base, "patchSet": {**base["patchSet"], **patch}})
    with pytest.raises(EventError, match="positive"):
        change_of({**base, "change": {**base["change"], "number": -5}})
    assert change_of({**base, "patchSet": {"number": 1, "revision": "ab" * 20}}).revision == "ab" * 20


def test_ci_run_refuses_a_traversing_project(tmp_path):
    proc = subprocess.run([str(Path(__file__).resolve().parents[2] / ".venv/bin/python"), "-m",
                           "certkit.cli", "ci", "run", "certkit-certify-dummy", "--change", "1,1",
                           "--project", "../../etc", "--gerrit-git-url", "file:///nonexistent",
                           "--work-dir", str(tmp_path / "w"), "--log-dir", str(tmp_path / "l")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "not a Gerrit project name" in proc.stderr and proc.stderr.count("\n") == 1
    assert not (tmp_path / "etc").exists()
