"""Job resolution as Zuul freezes jobs, and Zuul validity of certkit's own ci/zuul.d."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from certkit.ci.jobs import freeze_job, resolve_nodeset
from certkit.ci.zuulconfig import ZuulConfigError, load_layout
from tests.ci.conftest import ROOT

CHAIN = """\
- job:
    name: base
    parent: null
    pre-run: playbooks/base-pre.yaml
    post-run: playbooks/base-post.yaml
    cleanup-run: playbooks/base-cleanup.yaml
    timeout: 100
    vars: {a: base, nested: {x: 1, y: 1}, only_base: true}
- job:
    name: mid
    abstract: true
    pre-run: playbooks/mid-pre.yaml
    run: playbooks/mid-run.yaml
    post-run:
      - name: playbooks/mid-post.yaml
        cleanup: true
    vars: {a: mid, nested: {y: 2}}
    extra-vars: {e: mid}
    host-vars: {localhost: {h: mid, hm: mid}}
    group-vars: {g: {gv: mid}}
- job:
    name: leaf
    parent: mid
    run: playbooks/leaf-run.yaml
    post-run: playbooks/leaf-post.yaml
    timeout: 50
    vars: {a: leaf, nested: {z: 3}}
    extra-vars: {e: leaf}
    host-vars: {localhost: {h: leaf}}
- job:
    name: leaf
    branches: ^stable/.*$
    vars: {a: stable-variant}
    post-timeout: 7
- job:
    name: leaf
    branches: [master]
    voting: false
"""


def layout_of(tmp_path: Path, text: str, name: str = "zuul.yaml"):
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / name).write_text(textwrap.dedent(text))
    return load_layout([tmp_path])


def names(playbooks) -> list[str]:
    return [p.path.stem for p in playbooks]


def test_parent_chain_orders_playbooks_as_zuul(tmp_path):
    job = freeze_job(layout_of(tmp_path, CHAIN), "leaf", branch="feature/x")
    assert job.parents == ["base", "mid"]
    assert names(job.pre_run) == ["base-pre", "mid-pre"]          # parent first
    assert names(job.run) == ["leaf-run"]                          # replaced by the child's
    assert names(job.post_run) == ["leaf-post", "mid-post", "base-post"]  # child first
    assert names(job.cleanup_run) == ["base-cleanup"]
    assert [p.cleanup for p in job.post_run] == [False, True, False]
    assert job.pre_run[0].path == tmp_path / "playbooks/base-pre.yaml"
    assert job.timeout == 50 and job.voting is True


def test_vars_merge_child_wins_deeply(tmp_path):
    job = freeze_job(layout_of(tmp_path, CHAIN), "leaf")
    assert job.vars == {"a": "leaf", "nested": {"x": 1, "y": 2, "z": 3}, "only_base": True}
    assert job.extra_vars == {"e": "leaf"}
    assert job.host_vars == {"localhost": {"h": "leaf", "hm": "mid"}}
    assert job.group_vars == {"g": {"gv": "mid"}}


def test_branch_variants_apply_in_order_on_matching_branches(tmp_path):
    layout = layout_of(tmp_path, CHAIN)
    stable = freeze_job(layout, "leaf", branch="stable/2025.2")
    assert stable.vars["a"] == "stable-variant" and stable.post_timeout == 7 and stable.voting
    master = freeze_job(layout, "leaf", branch="master")
    assert master.vars["a"] == "leaf" and master.voting is False
    assert master.post_timeout != 7


def test_abstract_job_cannot_run_but_its_child_can(tmp_path):
    layout = layout_of(tmp_path, CHAIN)
    with pytest.raises(ZuulConfigError, match=r"zuul.yaml:\d+: job mid is abstract"):
        freeze_job(layout, "mid")
    assert freeze_job(layout, "leaf").name == "leaf"


@pytest.mark.parametrize("text, message", [
    ("- job: {name: a, final: true, run: r.yaml}\n- job: {name: b, parent: a}\n",
     r"zuul.yaml:2: job b: cannot inherit from final job a"),
    ("- job: {name: b, parent: nowhere, run: r.yaml}\n", r"job 'nowhere' is not defined"),
    ("- job: {name: a, parent: b, run: r.yaml}\n- job: {name: b, parent: a}\n",
     r"inheritance loop"),
    ("- job: {name: a, runn: r.yaml}\n", r"zuul.yaml:1: job a: unknown attribute 'runn'"),
    ("- job: {name: a, run: r.yaml, timeout: soon}\n", r"job a: timeout: must be an integer"),
    ("- job: {name: a, run: r.yaml, voting: 'yes'}\n", r"job a: voting: must be a boolean"),
    ("- job: {name: a, run: [{path: r.yaml}]}\n", r"a playbook is a path or a mapping"),
    ("- job: {name: a}\n  extra: 1\n", r"zuul.yaml:1: each stanza is a mapping with one key"),
    ("- jobb: {name: a}\n", r"unknown stanza 'jobb'"),
    ("- job: {name: a, run: r.yaml\n", r"zuul.yaml:\d+: not valid YAML"),
    ("- job: {name: a, nodeset: {nodes: [{name: n}]}, run: r.yaml}\n",
     r"each node needs 'name' and 'label'"),
    ("- job: {name: a}\n", r"job a has no run playbook"),
])
def test_bad_configuration_is_one_line_naming_file_and_line(tmp_path, text, message):
    with pytest.raises(ZuulConfigError, match=message) as info:
        layout = layout_of(tmp_path, text)
        for job in ("b", "a"):
            if job in layout.jobs:
                freeze_job(layout, job)
                break
    assert "\n" not in str(info.value)


def test_a_job_cannot_be_redefined_by_another_repository(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    for repo in (first, second):
        repo.mkdir()
        (repo / ".git").mkdir()
        (repo / "zuul.yaml").write_text("- job: {name: same, run: r.yaml}\n")
    with pytest.raises(ZuulConfigError, match="only the project that defines a job"):
        load_layout([first, second])


def test_vendor_repository_inherits_from_certkit_jobs(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "zuul.d").mkdir()
    (tmp_path / "zuul.d" / "acme.yaml").write_text(textwrap.dedent("""\
        - job:
            name: acme-certify
            parent: certkit-certify-base
            vars: {certkit_profile: driver_profiles/acme.yaml}
        """))
    layout = load_layout([ROOT / "ci" / "zuul.d", tmp_path / "zuul.d"])
    job = freeze_job(layout, "acme-certify")
    assert job.vars == {"certkit_profile": "driver_profiles/acme.yaml",
                        "certkit_suites": ["contract"]}
    assert job.run[0].path == ROOT / "ci/playbooks/certify.yaml"  # the parent's repository
    assert resolve_nodeset(layout, job)["nodes"][0]["name"] == "controller"


def test_certkit_jobs_freeze_and_name_existing_playbooks():
    layout = load_layout([ROOT / "ci" / "zuul.d"])
    concrete = [n for n, d in layout.jobs.items() if not d[0].attrs.get("abstract")]
    assert {"certkit-certify-dummy", "certkit-certify-cephfs-native"} <= set(concrete)
    for name in concrete:
        job = freeze_job(layout, name)
        for playbook in [*job.pre_run, *job.run, *job.post_run, *job.cleanup_run]:
            assert playbook.path.is_file(), f"{name}: {playbook.path}"
    ceph = freeze_job(layout, "certkit-certify-cephfs-native")
    assert names(ceph.pre_run) == ["prepare", "lab-up"]
    assert [(p.path.stem, p.cleanup) for p in ceph.post_run] == [("lab-down", True),
                                                                ("collect-reports", False)]


@pytest.fixture(scope="session")
def zuul_python() -> Path:
    """Zuul's own configuration parser (zuul 14.3.0) in .venv-zuul, built by the project."""
    venv = ROOT / ".venv-zuul"
    proc = subprocess.run(["bash", str(ROOT / "ci/zuul-validator/setup.sh"), str(venv)],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHON": sys.executable})  # its pip, not ensurepip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return venv / "bin" / "python"


def _zuul_validate(python: Path, *paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), str(ROOT / "ci/zuul-validator/validate.py"),
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_certkit_zuul_config_passes_zuuls_own_parser(zuul_python):
    proc = _zuul_validate(zuul_python, ROOT / "ci" / "zuul.d")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 problem(s)" in proc.stderr


def test_zuuls_parser_rejects_what_certkit_rejects(zuul_python, tmp_path):
    """The validator is not a rubber stamp: Zuul's schema catches the same mistakes."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("- job: {name: a, runn: r.yaml}\n- job: {name: b, timeout: soon}\n"
                   "- nodeset: {name: n, nodes: [{name: x}]}\n")
    proc = _zuul_validate(zuul_python, bad)
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 3 and "runn" in lines[0] and "timeout" in lines[1] and "label" in lines[2]
