"""The node image's venv key (certkit/zuullab/image.py) is the one ci/playbooks/prepare.yaml
computes on the node, so a build finds the venv the lab baked."""

from __future__ import annotations

import re
import subprocess

import yaml

from certkit.zuullab.image import venv_key
from tests.conftest import ROOT


def test_the_baked_venv_key_is_the_one_prepare_computes(tmp_path):
    tasks = yaml.safe_load((ROOT / "ci" / "playbooks" / "prepare.yaml").read_text())[0]["tasks"]
    script = tasks[0]["shell"]["cmd"]
    line = next(line for line in script.splitlines() if line.strip().startswith("key="))
    command = re.fullmatch(r"\s*key=\$\((.*)\)\s*", line).group(1)
    for tree, text in ((ROOT, None), (tmp_path, "[project]\nname = 'changed'\n")):
        if text is not None:
            (tree / "pyproject.toml").write_text(text)
            (tree / "setup.py").write_text("from setuptools import setup\nsetup()\n")
        shell = subprocess.run(["sh", "-c", command], cwd=tree, capture_output=True, text=True, check=True)
        assert shell.stdout.strip() == venv_key(tree)
    assert venv_key(ROOT) != venv_key(tmp_path)
