"""The docs site builds with warnings as errors, has no broken internal link, and its generated
reference covers the code: every sub-command, every schema, every check's anchor."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from certkit.cli import build_parser
from tests.docs import examples
from tests.docs.examples import ROOT

SPHINX = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]


def load_ext(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs-site")
    done = subprocess.run([*SPHINX, "-d", str(out / "doctrees"), "docs", str(out / "html")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"sphinx-build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return out / "html"


def test_no_broken_internal_links(site):
    broken = load_ext("internal_links").broken_links(site)
    assert not broken, "\n".join(broken)


def test_cli_reference_lists_every_subcommand(site):
    page = (site / "reference" / "cli.html").read_text()
    missing = []

    def walk(parser, spelled):
        for name, sub in examples.subcommands(parser).items():
            missing.extend([f"{spelled} {name}"] if f"{spelled} {name}" not in page else [])
            walk(sub, f"{spelled} {name}")
            for action in sub._actions:
                missing.extend(o for o in action.option_strings if o.startswith("--") and o not in page)

    walk(build_parser(), "certkit")
    assert not missing, f"not in the CLI reference: {missing}"


def test_schema_pages_list_every_top_level_property(site):
    for name in ("report", "profile", "audit", "ci_config"):
        schema = json.loads((ROOT / "certkit" / "schemas" / f"{name}.schema.json").read_text())
        page = (site / "reference" / f"schema-{name}.html").read_text()
        missing = [p for p in schema["properties"] if f"<code class=\"docutils literal notranslate\"><span class=\"pre\">{p}</span>" not in page]
        assert not missing, f"schema-{name}.html lacks {missing}"


def test_every_check_has_an_anchor(site):
    anchors = "".join(p.read_text() for p in (site / "checks").glob("*.html"))
    missing = [u for u in examples.check_uuids() if f'id="check-{u}"' not in anchors]
    assert not missing, f"checks without a catalogue entry: {missing}"


def test_measured_role_fails_on_missing_figure_with_page_and_line(tmp_path):
    """A page quoting a key no benchmark wrote fails the build, naming the page and line."""
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "bench.json").write_text(json.dumps({"a": {"b": 1.5}}))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'docs' / '_ext')!r})\n"
        "extensions = ['myst_parser', 'measured']\n")
    (docs / "index.md").write_text("# T\n\nfound {measured}`bench:a.b` s\n\n"
                                   "missing {measured}`bench:a.c`, {measured}`nobench:x`\n")
    done = subprocess.run([*SPHINX, str(docs), str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode != 0
    assert "index.md:5" in done.stderr and "no key 'a.c'" in done.stderr, done.stderr
    assert "no results file benchmarks/results/nobench.json" in done.stderr, done.stderr
    (docs / "index.md").write_text("# T\n\nfound {measured}`bench:a.b` s\n")
    done = subprocess.run([*SPHINX, str(docs), str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "found <span class=\"measured\">1.5</span> s" in (tmp_path / "out" / "index.html").read_text()
