"""The README's figures block is what benchmarks/readme_figures.py writes from benchmarks/results/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import readme_figures  # noqa: E402
from measured import MissingFigure  # noqa: E402  (docs/_ext, put on sys.path by readme_figures)


def test_readme_figures_block_is_current():
    readme = (ROOT / "README.md").read_text()
    assert readme_figures.table() in readme, "run .venv/bin/python benchmarks/readme_figures.py"


def test_check_mode_reports_a_stale_readme(tmp_path, monkeypatch):
    stale = (ROOT / "README.md").read_text().replace(
        readme_figures.table(), f"{readme_figures.BEGIN}\n| typed | by hand | x |\n{readme_figures.END}")
    monkeypatch.setattr(readme_figures, "README", tmp_path / "README.md")
    (tmp_path / "README.md").write_text(stale)
    assert readme_figures.main(["--check"]) == 1
    assert readme_figures.main([]) == 0
    assert readme_figures.main(["--check"]) == 0
    assert "typed | by hand" not in (tmp_path / "README.md").read_text()


def test_a_figure_no_benchmark_wrote_cannot_appear(tmp_path):
    for name in {reference.partition(":")[0] for figure in readme_figures.FIGURES
                 for reference in figure.references}:
        (tmp_path / f"{name}.json").write_text(json.dumps({}))
    with pytest.raises(MissingFigure, match=r"benchmarks/results/\w+\.json has no key"):
        readme_figures.table(tmp_path)


def test_script_check_exits_zero_on_this_checkout():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "readme_figures.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
