"""The Zuul lab's node mirror (certkit/zuullab/mirror.py): its PEP 503 layout, its key and what
it holds. pip itself reading it is proven by the end-to-end tests (the node's `make venv`)."""

from __future__ import annotations

import sys

import pytest

from certkit.lab.processes import LabError
from certkit.zuullab import mirror


def test_index_has_one_normalized_project_page_per_wheel(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    names = ["oslo.config-9.4.0-py3-none-any.whl", "Jinja2-3.1.4-py3-none-any.whl",
             "zope_interface-6.4-cp311-cp311-manylinux_2_17_x86_64.whl",
             "PyYAML-6.0.1-cp311-cp311-manylinux_2_17_x86_64.whl"]
    for name in names:
        (wheels / name).write_bytes(b"wheel")
    mirror.index(tmp_path)
    pages = {p.name: sorted(f.name for f in p.iterdir()) for p in (tmp_path / "simple").iterdir()}
    assert pages == {"oslo-config": [names[0]], "jinja2": [names[1]], "zope-interface": [names[2]],
                     "pyyaml": [names[3]]}
    mirror.index(tmp_path)  # rebuilt, not appended to
    assert len(list((tmp_path / "simple").iterdir())) == 4


def test_a_file_that_is_not_a_wheel_name_is_refused(tmp_path):
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "-.whl").write_bytes(b"")
    with pytest.raises(LabError, match="cannot tell the project"):
        mirror.index(tmp_path)


def test_the_frozen_list_pins_this_venv_without_certkit_and_keys_the_cache(monkeypatch):
    requirements = mirror.frozen_requirements(sys.executable)
    names = {line.split("==")[0].lower() for line in requirements}
    assert all("==" in line for line in requirements)
    assert "certkit" not in names
    assert {"pip", "setuptools", "manila", "paramiko"} <= names  # the editable build needs setuptools
    monkeypatch.delenv("CERTKIT_ZUUL_WHEELHOUSE", raising=False)
    assert mirror.cache_dir(requirements) == mirror.cache_dir(list(requirements))
    assert mirror.cache_dir(requirements) != mirror.cache_dir(requirements + ["extra==1"])
