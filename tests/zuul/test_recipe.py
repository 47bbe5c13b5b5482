"""The vendor recipe (docs/zuul/vendor-setup.md) as the lab reads it, and the lab's small parts
that need no Zuul: cheap, no root."""

from __future__ import annotations

import os
import stat

import pytest
import yaml

from certkit.errors import CertkitError
from certkit.zuullab.command import gerrit_target
from certkit.zuullab.recipe import recipe_files
from certkit.zuullab.state import GerritTarget, ZuulLabState, reserved_ports


def test_the_recipe_is_the_tenant_and_config_project_the_lab_runs():
    files = recipe_files()
    tenant = yaml.safe_load(files["main.yaml"])[0]["tenant"]
    git = tenant["source"]["git"]
    assert git["config-projects"] == ["zuul-config"]
    certkit = git["untrusted-projects"][0]["certkit"]
    assert certkit["extra-config-paths"] == ["ci/zuul.d/"]  # where certkit keeps its jobs
    assert set(certkit["include"]) == {"job", "nodeset"}
    assert tenant["source"]["gerrit"]["untrusted-projects"] == [{"openstack/manila": {"include": []}}]
    pipeline = yaml.safe_load(files["zuul-config/zuul.d/pipelines.yaml"])[0]["pipeline"]
    assert pipeline["success"] == {"gerrit": {"Verified": 1}}
    assert pipeline["failure"] == {"gerrit": {"Verified": -1}}
    assert "start" not in pipeline  # one comment per patch set
    project = yaml.safe_load(files["zuul-config/zuul.d/projects.yaml"])[0]["project"]
    assert project["check"]["jobs"] == ["certkit-certify-dummy"]
    for playbook in ("pre.yaml", "post.yaml"):
        assert f"zuul-config/playbooks/base/{playbook}" in files


def test_a_broken_recipe_block_is_one_clear_error(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- zuul-recipe: main.yaml -->\n```yaml\n- tenant: [unclosed\n```\n")
    with pytest.raises(CertkitError, match=r"page.md: zuul-recipe main.yaml is not YAML"):
        recipe_files(page)
    page.write_text("no blocks here\n")
    with pytest.raises(CertkitError, match="no zuul-recipe block for main.yaml"):
        recipe_files(page)


def test_gerrit_option(tmp_path):
    key = tmp_path / "key"
    key.write_text("k")
    target = gerrit_target("ssh://acme-ci@127.0.0.1:29418", str(key))
    assert (target.user, target.host, target.port) == ("acme-ci", "127.0.0.1", 29418)
    assert gerrit_target(None, None) is None
    for url, path, message in (("http://x:1", str(key), "expected ssh://USER@HOST:PORT"),
                               ("ssh://a@h:1", str(tmp_path / "none"), "no such file"),
                               ("ssh://a@h:1", None, "give both")):
        with pytest.raises(CertkitError, match=message):
            gerrit_target(url, path)


def test_ports_are_distinct_and_the_state_file_is_private(tmp_path):
    with reserved_ports(tuple(f"p{i}" for i in range(20))) as ports:
        assert len(set(ports.values())) == 20
    state = ZuulLabState(gerrit=GerritTarget("127.0.0.1", 29418, "acme-ci", "/k"), ports=ports)
    path = tmp_path / "state.json"
    state.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = ZuulLabState.load(path)
    assert loaded == state and loaded.keystore_password  # a random one, kept
    path.write_text("{not json")
    with pytest.raises(CertkitError, match="unreadable zuul lab state"):
        ZuulLabState.load(path)


def test_every_directory_zuul_writes_is_the_labs(tmp_path):
    """Zuul's defaults put the executor's and merger's git caches in /var/lib/zuul: `down`
    left them behind and two labs shared them (each rewrote the other's `origin`). Every
    directory zuul.conf names is inside the lab, but the short job_dir `down` removes."""
    import configparser
    import sys
    from pathlib import Path

    from certkit.zuullab.config import zuul_conf
    from certkit.zuullab.tls import TLSFiles

    lab = tmp_path / "lab"
    with reserved_ports() as ports:
        state = ZuulLabState(gerrit=GerritTarget("127.0.0.1", 29418, "acme-ci", "/k"), ports=ports)
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(zuul_conf(lab, state, TLSFiles(lab / "tls"), lab / "ssh" / "key", Path(sys.prefix)))
    directories = {f"{section}.{key}": Path(value) for section in conf.sections()
                   for key, value in conf[section].items()
                   if key.endswith(("_dir", "_root")) and key != "ansible_root"}
    assert {"executor.git_dir", "merger.git_dir", "executor.state_dir"} <= set(directories)
    outside = {name: path for name, path in directories.items()
               if lab not in path.parents and name != "executor.job_dir"}
    assert not outside, outside
    assert directories["executor.job_dir"] == Path(state.job_dir)
