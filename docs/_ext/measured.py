"""The {measured} role: a figure quoted from a benchmark's results file.

    {measured}`contract_suite:whole_run_s`

renders the value at the dotted key of benchmarks/results/contract_suite.json. A missing file,
unreadable JSON or a missing key is a Sphinx warning located at the page and line (the build
runs with -W, so it fails): a doc never quotes a figure no benchmark wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


class MissingFigure(LookupError):
    """The role names a results file or key that does not exist."""


def results_dir(app: Sphinx) -> Path:
    """benchmarks/results/ of the checkout the docs belong to."""
    return Path(app.confdir).parent / "benchmarks" / "results"


def lookup(directory: Path, reference: str) -> Any:
    """The value `benchmark:dotted.key` names; MissingFigure says what is missing."""
    benchmark, sep, dotted = reference.partition(":")
    if not sep or not benchmark or not dotted:
        raise MissingFigure(f"{reference!r} is not <benchmark>:<dotted.key>")
    path = directory / f"{benchmark}.json"
    try:
        value: Any = json.loads(path.read_text())
    except FileNotFoundError:
        raise MissingFigure(f"no results file benchmarks/results/{benchmark}.json "
                            f"(run benchmarks/{benchmark}.py)") from None
    except (OSError, ValueError) as exc:
        raise MissingFigure(f"benchmarks/results/{benchmark}.json: {exc}") from None
    walked = []
    for part in dotted.split("."):
        walked.append(part)
        if not isinstance(value, dict) or part not in value:
            raise MissingFigure(f"benchmarks/results/{benchmark}.json has no key {'.'.join(walked)!r}")
        value = value[part]
    if isinstance(value, (dict, list)):
        raise MissingFigure(f"benchmarks/results/{benchmark}.json: {dotted!r} is not a single figure")
    return value


def render(value: Any) -> str:
    """A figure as text: thousands separated, floats as the benchmark rounded them."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,}"
    return str(value)


def measured_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """Docutils role: the figure as literal-free text, or a located warning."""
    env = inliner.document.settings.env
    benchmark = text.strip().partition(":")[0]
    try:
        value = lookup(results_dir(env.app), text.strip())
    except MissingFigure as exc:
        pending = env.config.measured_pending
        if benchmark in (pending.split(",") if isinstance(pending, str) else pending):
            # benchmarks/docs_build.py times the build of the page that quotes its own figures:
            # on its very first run they cannot exist yet.
            return [nodes.inline(rawtext, "(being measured)", classes=["measured"])], []
        logger.warning("{measured}`%s`: %s", text, exc, location=(env.docname, lineno))
        return [nodes.problematic(rawtext, rawtext)], []
    env.note_dependency(str(results_dir(env.app) / f"{benchmark}.json"))  # re-read when re-measured
    return [nodes.inline(rawtext, render(value), classes=["measured"])], []


def setup(app: Sphinx) -> dict:
    app.add_role("measured", measured_role)
    # Benchmarks whose figures may be missing in this build (only `-D measured_pending=...`).
    app.add_config_value("measured_pending", [], "env", types=[list, str])
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
