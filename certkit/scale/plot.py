"""Latency-vs-N charts of a scale result: one per operation, PNG and SVG (matplotlib, Agg)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from certkit.errors import CertkitError
from certkit.scale.analysis import OPERATIONS_BY_NAME, PERCENTILES

STYLES = {"p50": ("-", "o"), "p95": ("--", "s"), "p99": (":", "^"), "max": ("-.", "x")}


def write_plots(section: dict[str, Any], directory: str | os.PathLike[str]) -> list[Path]:
    """Write `<operation>.png` and `<operation>.svg` for every measured operation; return the paths."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CertkitError(f"--plot {directory}: cannot create the directory: {exc.strerror}") from None
    written: list[Path] = []
    for name, curve in section["operations"].items():
        points = [(step["shares"], step["operations"][name]) for step in section["step_results"]
                  if "p50" in step["operations"].get(name, {})]
        if not points:
            continue
        figure = _chart(name, curve, points)
        for suffix in ("png", "svg"):
            path = out / f"{name}.{suffix}"
            try:
                figure.savefig(path)
            except OSError as exc:
                raise CertkitError(f"--plot {path}: cannot write: {exc.strerror}") from None
            written.append(path)
    return written


def _chart(name: str, curve: dict[str, Any], points: list[tuple[int, dict[str, Any]]]) -> Any:
    """One operation's percentiles against N, log-log, its exponent in the title."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), dpi=100)
    FigureCanvasAgg(figure)  # the Agg backend, whatever the environment's default
    axes = figure.add_subplot()
    figure.subplots_adjust(left=0.11, right=0.97, bottom=0.12, top=0.92)
    for key, _ in PERCENTILES:
        line, marker = STYLES[key]
        axes.plot([n for n, _ in points], [figs[key] * 1000 for _, figs in points],
                  linestyle=line, marker=marker, label=key)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("shares on the back end (N)")
    axes.set_ylabel("latency (ms)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    axes.set_title(_title(name, curve), fontsize="medium",
                   color="firebrick" if "finding" in curve else "black")
    return figure


def _title(name: str, curve: dict[str, Any]) -> str:
    op = OPERATIONS_BY_NAME.get(name)
    slope = curve.get("exponent")
    fitted = f"exponent {slope:.2f}" if slope is not None else "exponent n/a (one step)"
    expected = f", expected {curve['expected_exponent']:g}" if curve.get("expected_exponent") else ""
    verdict = (" - GROWS WITH N" if curve.get("grows_with_n") else
               " - TAIL GROWS WITH N" if curve.get("tail_grows_with_n") else
               " - grows with rules" if curve.get("grows_with_rules") else "")
    return f"{op.title if op else name}: {fitted}{expected}{verdict}"
