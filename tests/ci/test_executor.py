"""`certkit ci run`'s executor against the real ansible-playbook: phases, variables, the zuul
variable, zuul_return, results, the process tree on timeout and the Zuul-shaped logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import yaml

from certkit.ci.runjob import JobRequest, run_job
from certkit.ci.workspace import Change

RECORD = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: record {name}
      lineinfile:
        path: "{{{{ zuul.executor.log_root }}}}/order.txt"
        line: "{name}"
        create: true
"""

CONFIG = """\
- job:
    name: base
    parent: null
    pre-run: playbooks/base-pre.yaml
    post-run: playbooks/base-post.yaml
    vars: {a: base, nested: {x: 1, y: 1}, g_or_h: all}
- job:
    name: ok
    pre-run: playbooks/ok-pre.yaml
    run: playbooks/ok-run.yaml
    post-run:
      - name: playbooks/ok-post.yaml
        cleanup: true
    vars: {a: ok, nested: {y: 2}}
    extra-vars: {a_extra: extra, a: from-extra}
    host-vars: {localhost: {g_or_h: host}}
    group-vars: {grp: {g_or_h: group, group_only: yes}}
    nodeset:
      nodes: [{name: localhost, label: local}]
      groups: [{name: grp, nodes: [localhost]}]
- job:
    name: fails
    parent: null
    run: playbooks/fail.yaml
- job:
    name: post-fails
    parent: null
    run: playbooks/ok-run-plain.yaml
    post-run: playbooks/fail.yaml
- job:
    name: hangs
    parent: null
    run: playbooks/hang.yaml
    timeout: 3
    cleanup-run: playbooks/cleanup.yaml
- job:
    name: pre-fails
    parent: null
    pre-run: playbooks/fail.yaml
    run: playbooks/ok-run-plain.yaml
    attempts: 2
- job:
    name: missing-playbook
    parent: null
    run: playbooks/nowhere.yaml
- job:
    name: syntax-error
    parent: null
    run: playbooks/broken.yaml
"""

OK_RUN = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: record ok-run
      lineinfile: {path: "{{ zuul.executor.log_root }}/order.txt", line: ok-run, create: true}
    - name: dump what the playbook sees
      copy:
        dest: "{{ zuul.executor.log_root }}/seen.json"
        content: "{{ {'a': a, 'nested': nested, 'a_extra': a_extra, 'g_or_h': g_or_h,
                      'group_only': group_only, 'zuul': zuul} | to_json }}"
    - name: return data to Zuul
      zuul_return:
        data:
          zuul: {artifacts: [{name: report, url: certkit/report.json}]}
          certkit: {verdict: certified}
"""


def write_repo(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "zuul.yaml").write_text(CONFIG)
    books = root / "playbooks"
    books.mkdir()
    for name in ("base-pre", "base-post", "ok-pre", "ok-post", "cleanup"):
        (books / f"{name}.yaml").write_text(RECORD.format(name=name))
    (books / "ok-run.yaml").write_text(OK_RUN)
    (books / "ok-run-plain.yaml").write_text(RECORD.format(name="ok-run"))
    (books / "fail.yaml").write_text(textwrap.dedent("""\
        - hosts: all
          gather_facts: false
          tasks:
            - fail: {msg: "this playbook fails on purpose"}
        """))
    # A process tree: a shell, its background child, and a grandchild in its own session.
    (books / "hang.yaml").write_text(textwrap.dedent("""\
        - hosts: all
          gather_facts: false
          tasks:
            - shell: "sleep 301.25 & setsid sleep 302.25 & sleep 303.25; wait"
        """))
    (books / "broken.yaml").write_text("- hosts: all\n  tasks:\n    - not_a_module_at_all: {}\n")
    return root


def run(tmp_path: Path, repo: Path, job: str, **kw):
    request = JobRequest(job=job, config_dirs=[repo], work_root=tmp_path / "work",
                         log_root=tmp_path / "logs" / job, **kw)
    return run_job(request)


def order(result) -> list[str]:
    path = result.log_dir / "order.txt"
    return path.read_text().split() if path.exists() else []


def test_success_phases_vars_zuul_variable_zuul_return_and_logs(tmp_path):
    repo = write_repo(tmp_path / "repo")
    change = Change(project="acme/driver", number=12345, patchset=6, branch="master",
                    subject="Fix 'quotes' and $(shell)\nsecond line", url="https://r/c/12345")
    result = run(tmp_path, repo, "ok")
    assert result.result == "SUCCESS", (result.error, (result.log_dir / "job-output.txt").read_text())
    assert order(result) == ["base-pre", "ok-pre", "ok-run", "ok-post", "base-post"]
    seen = json.loads((result.log_dir / "seen.json").read_text())
    # extra-vars beat everything; host-vars beat group-vars beat vars; dicts merge deeply.
    assert seen["a"] == "from-extra" and seen["a_extra"] == "extra"
    assert seen["nested"] == {"x": 1, "y": 2}
    assert seen["g_or_h"] == "host" and seen["group_only"] is True
    zuul = seen["zuul"]
    assert zuul["job"] == "ok" and zuul["pipeline"] == "check" and zuul["build"] == result.build
    assert zuul["executor"]["log_root"] == str(result.log_dir)
    assert zuul["executor"]["work_root"].endswith("/work")
    assert zuul["project"]["src_dir"] == f"src/localhost/{repo.name}"
    assert Path(zuul["executor"]["work_root"], zuul["project"]["src_dir"], "zuul.yaml").is_file()
    assert result.data == {"zuul": {"artifacts": [{"name": "report", "url": "certkit/report.json"}]},
                           "certkit": {"verdict": "certified"}}
    text = (result.log_dir / "job-output.txt").read_text()
    assert "PRE-RUN START" in text and "POST-RUN END RESULT_NORMAL" in text
    assert all(" | " in line for line in text.splitlines())
    entries = json.loads((result.log_dir / "job-output.json").read_text())
    assert [e["phase"] for e in entries] == ["pre", "pre", "run", "post", "post"]
    run_entry = entries[2]
    assert run_entry["stats"]["localhost"]["failures"] == 0
    task_names = [t["task"]["name"] for t in run_entry["plays"][0]["tasks"]]
    assert task_names == ["record ok-run", "dump what the playbook sees", "return data to Zuul"]
    inventory = yaml.safe_load((result.log_dir / "zuul-info" / "inventory.yaml").read_text())
    assert inventory["all"]["vars"]["zuul"]["build"] == result.build
    assert inventory["all"]["children"]["grp"]["vars"] == {"g_or_h": "group", "group_only": True}
    assert change.ref == "refs/changes/45/12345/6"


def test_failure_post_failure_retry_limit_and_error(tmp_path):
    repo = write_repo(tmp_path / "repo")
    failed = run(tmp_path, repo, "fails")
    assert failed.result == "FAILURE" and "failed" in failed.error
    post = run(tmp_path, repo, "post-fails")
    assert post.result == "POST_FAILURE"
    assert order(post) == ["ok-run"]  # the run succeeded, then the post-run failed
    retry = run(tmp_path, repo, "pre-fails")
    assert retry.result == "RETRY_LIMIT"
    text = (retry.log_dir / "job-output.txt").read_text()
    assert text.count("PRE-RUN START") == 2 and "Attempt 1 of 2 needs a retry" in text
    assert "ok-run" not in order(retry)  # a failed pre-run never reaches the run
    missing = run(tmp_path, repo, "missing-playbook")
    assert missing.result == "ERROR" and "nowhere.yaml" in missing.error and not order(missing)
    broken = run(tmp_path, repo, "syntax-error")
    assert broken.result == "ERROR" and "not_a_module_at_all" in broken.error


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_timeout_kills_the_whole_process_tree_and_runs_cleanup(tmp_path):
    repo = write_repo(tmp_path / "repo")
    result = run(tmp_path, repo, "hangs")
    assert result.result == "TIMED_OUT"
    assert "process tree was killed" in result.error
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_processes_with(m) for m in
                                              ("301.25", "302.25", "303.25")):
        time.sleep(0.1)
    assert not [m for m in ("301.25", "302.25", "303.25") if _processes_with(m)]
    assert order(result) == ["cleanup"]  # cleanup-run runs after a timeout
    assert "RESULT_TIMED_OUT" in (result.log_dir / "job-output.txt").read_text()


def test_playbooks_never_see_the_ci_secrets(tmp_path, monkeypatch):
    repo = write_repo(tmp_path / "repo")
    (repo / "playbooks" / "ok-run-plain.yaml").write_text(textwrap.dedent("""\
        - hosts: all
          gather_facts: false
          tasks:
            - copy:
                dest: "{{ zuul.executor.log_root }}/env.txt"
                content: >-
                  {{ lookup('env', 'CERTKIT_DASHBOARD_TOKEN') }}|{{
                  lookup('env', 'CERTKIT_GERRIT_KEY_PASSPHRASE') }}|{{ lookup('env', 'ACME_TOKEN') }}
        """))
    (repo / "zuul.yaml").write_text("- job: {name: env, parent: null, run: playbooks/ok-run-plain.yaml}\n")
    monkeypatch.setenv("CERTKIT_DASHBOARD_TOKEN", "tok'en\"$(rm -rf /)")
    monkeypatch.setenv("CERTKIT_GERRIT_KEY_PASSPHRASE", "pass phrase")
    monkeypatch.setenv("ACME_TOKEN", "acme-secret")  # a token_env the configuration names
    result = run(tmp_path, repo, "env", hidden_env=("ACME_TOKEN",))
    assert result.result == "SUCCESS"
    assert (result.log_dir / "env.txt").read_text() == "||"
    for path in result.log_dir.rglob("*"):
        if path.is_file():
            assert "tok'en" not in path.read_text(errors="replace")


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "certkit.cli", "ci", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


def test_ci_run_command_exit_status_and_one_line_errors(tmp_path):
    repo = write_repo(tmp_path / "repo")
    error = _cli("run", "missing-playbook", "--zuul-config", str(repo), "--log-dir",
                 str(tmp_path / "l1"), "--work-dir", str(tmp_path / "w"), cwd=tmp_path)
    assert error.returncode == 1
    assert error.stdout.startswith(f"- missing-playbook {tmp_path / 'l1'} : ERROR in 0s (playbook ")
    unknown = _cli("run", "no-such-job", "--zuul-config", str(repo), cwd=tmp_path)
    assert unknown.returncode == 2 and "job 'no-such-job' is not defined" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    bad_change = _cli("run", "ok", "--zuul-config", str(repo), "--change", "12345", cwd=tmp_path)
    assert bad_change.returncode == 2 and "--change: expected CHANGE,PATCHSET" in bad_change.stderr
    no_url = _cli("run", "ok", "--zuul-config", str(repo), "--change", "1,1", cwd=tmp_path)
    assert no_url.returncode == 2 and "needs a Gerrit git URL" in no_url.stderr
    bad_config = tmp_path / "bad"
    (bad_config / ".git").mkdir(parents=True)
    (bad_config / "zuul.yaml").write_text("- job: {name: x, runn: y}\n")
    invalid = _cli("run", "x", "--zuul-config", str(bad_config), cwd=tmp_path)
    assert invalid.returncode == 2 and "zuul.yaml:1: job x: unknown attribute 'runn'" in invalid.stderr
    temp = tmp_path / "tmp"  # a refused run leaves no temporary workspace behind
    temp.mkdir()
    refused = _cli("run", "no-such-job", "--zuul-config", str(repo), cwd=tmp_path,
                   env={**os.environ, "TMPDIR": str(temp)})
    assert refused.returncode == 2 and not list(temp.iterdir())


def test_check_config_freezes_certkits_jobs(tmp_path):
    from tests.ci.conftest import ROOT

    proc = _cli("check-config", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "certkit-certify-base: abstract" in proc.stdout
    assert "certkit-certify-dummy: ok (parents: certkit-certify-base)" in proc.stdout


def test_certkit_run_rejects_a_malformed_manila_source_before_running(tmp_path):
    import os

    from tests.ci.conftest import ROOT

    proc = subprocess.run([sys.executable, "-m", "certkit.cli", "run",
                           str(ROOT / "driver_profiles/manila-dummy.yaml"), "--report",
                           str(tmp_path / "r.json")], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env={**os.environ, "CERTKIT_MANILA_SOURCE": "[1, 2"})
    assert proc.returncode == 2 and not (tmp_path / "r.json").exists()
    assert proc.stderr.strip() == ("certkit: error: CERTKIT_MANILA_SOURCE: expected a JSON object "
                                   "{project, change, patchset, ref, commit}")
