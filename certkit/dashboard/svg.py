"""Server-side SVG: a back end's run history plot and a README badge (no JavaScript)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any
from xml.sax.saxutils import escape, quoteattr

# Verdicts have a shape as well as a colour: colour is never the only signal.
MARKS = {"certified": ("#1a7f37", "circle"), "not-certified": ("#cf222e", "cross"),
         "partial": ("#9a6700", "triangle")}


def _mark(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    if kind == "triangle":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x - 5:.1f},{y + 4:.1f} {x + 5:.1f},{y + 4:.1f}"'
                f' fill="{colour}"/>')
    return (f'<path d="M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}M{x - 4:.1f},{y + 4:.1f}'
            f'L{x + 4:.1f},{y - 4:.1f}" stroke="{colour}" stroke-width="2.5"/>')


def _nice_step(span: float, ticks: int = 4) -> float:
    """A 1/2/5 x 10^n step that cuts `span` into about `ticks` parts."""
    raw = span / ticks if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _time_label(t: float, span: float) -> str:
    when = datetime.fromtimestamp(t, timezone.utc)
    if span <= 2 * 86400:
        return when.strftime("%m-%d %H:%M")
    return when.strftime("%Y-%m-%d")


def history_plot(runs: list[dict[str, Any]], width: int = 760, height: int = 240) -> str:
    """Durations over time, one mark per run shaped and coloured by verdict (oldest left); the
    y axis in seconds or minutes (named), the x axis at most five dated ticks that never overlap."""
    runs = sorted(runs, key=lambda r: r["started_at"])
    left, right, top, bottom = 64, 16, 26, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="history" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-family="sans-serif" font-size="11" fill="#1f2328">',
             '<title>Run history: duration per run, marked by verdict</title>',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
             'stroke="#d0d7de"/>']
    if not runs:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no runs yet</text>')
        return "".join(parts) + "</svg>"
    times = [datetime.fromisoformat(r["started_at"].replace("Z", "+00:00")).timestamp() for r in runs]
    t0, t1 = min(times), max(times)
    longest = max(r["duration"] for r in runs) or 1.0
    unit, scale = ("min", 60.0) if longest >= 180 else ("s", 1.0)
    step = _nice_step(longest / scale)
    top_value = step * math.ceil(longest / scale / step)
    dmax = top_value * scale
    value = 0.0
    while value <= top_value + 1e-9:
        y = top + plot_h * (1 - value / top_value)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#eaeef2"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
        value += step
    parts.append(f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">duration ({unit})</text>')

    def x_of(t: float) -> float:
        return left + (plot_w * (t - t0) / (t1 - t0) if t1 > t0 else plot_w / 2)

    span = t1 - t0
    ticks = [t0 + span * i / 4 for i in range(5)] if span > 0 else [t0]
    for i, t in enumerate(ticks):
        anchor = "start" if i == 0 and len(ticks) > 1 else "end" if i == 4 else "middle"
        x = x_of(t)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" '
                     'stroke="#57606a"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}">'
                     f'{escape(_time_label(t, span))}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                 'run started (UTC)</text>')
    points = []
    for r, t in zip(runs, times):
        points.append((x_of(t), top + plot_h * (1 - r["duration"] / dmax), r))
    parts.append('<polyline fill="none" stroke="#8c959f" stroke-width="1" points="'
                 + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points) + '"/>')
    for x, y, r in points:
        colour, shape = MARKS.get(r["verdict"], ("#57606a", "circle"))
        tip = f'{r["run_id"]} {r["verdict"]} {r["duration"]:.1f} s {r["started_at"]}'
        parts.append(f'<g class="run {escape(r["verdict"])}"><title>{escape(tip)}</title>'
                     f'{_mark(shape, x, y, colour)}</g>')
    legend_x = left + plot_w - 3 * 110
    for verdict, (colour, shape) in MARKS.items():
        parts.append(_mark(shape, legend_x + 5, 12, colour))
        parts.append(f'<text x="{legend_x + 14}" y="16">{verdict}</text>')
        legend_x += 110
    return "".join(parts) + "</svg>"


def badge(label: str, value: str, colour: str) -> str:
    """A shields-style flat badge."""
    lw, vw = 7 * len(label) + 12, 7 * len(value) + 12
    text = f"{label}: {value}"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + vw}" height="20" role="img" '
            f'aria-label={quoteattr(text)}><title>{escape(text)}</title>'
            f'<rect width="{lw}" height="20" fill="#555"/>'
            f'<rect x="{lw}" width="{vw}" height="20" fill="{colour}"/>'
            '<g fill="#fff" font-family="Verdana,sans-serif" font-size="11" text-anchor="middle">'
            f'<text x="{lw / 2}" y="14">{escape(label)}</text>'
            f'<text x="{lw + vw / 2}" y="14">{escape(value)}</text></g></svg>')


BADGE_COLOURS = {"certified": "#1a7f37", "not-certified": "#cf222e", "partial": "#9a6700"}
