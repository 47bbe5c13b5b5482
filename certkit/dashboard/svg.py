"""Server-side SVG: a back end's run history plot and a README badge (no JavaScript)."""

from __future__ import annotations

from datetime import datetime
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


def history_plot(runs: list[dict[str, Any]], width: int = 760, height: int = 220) -> str:
    """Durations over time, one mark per run shaped and coloured by verdict (oldest left)."""
    runs = sorted(runs, key=lambda r: r["started_at"])
    left, right, top, bottom = 56, 12, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="history" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-family="sans-serif" font-size="11">',
             '<title>Run history: duration per run, marked by verdict</title>',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
             'stroke="#d0d7de"/>']
    if not runs:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no runs yet</text>')
        return "".join(parts) + "</svg>"
    times = [datetime.fromisoformat(r["started_at"].replace("Z", "+00:00")).timestamp() for r in runs]
    t0, t1 = min(times), max(times)
    dmax = max(r["duration"] for r in runs) or 1.0
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#eaeef2"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{dmax * frac:.0f} s</text>')
    for label, t, anchor in ((runs[0]["started_at"][:10], t0, "start"),
                             (runs[-1]["started_at"][:10], t1, "end")):
        x = left + (plot_w * (t - t0) / (t1 - t0) if t1 > t0 else plot_w / 2)
        parts.append(f'<text x="{x:.1f}" y="{height - 22}" text-anchor="{anchor}">{escape(label)}</text>')
    points = []
    for r, t in zip(runs, times):
        x = left + (plot_w * (t - t0) / (t1 - t0) if t1 > t0 else plot_w / 2)
        y = top + plot_h * (1 - r["duration"] / dmax)
        points.append((x, y, r))
    parts.append('<polyline fill="none" stroke="#8c959f" stroke-width="1" points="'
                 + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points) + '"/>')
    for x, y, r in points:
        colour, shape = MARKS.get(r["verdict"], ("#57606a", "circle"))
        tip = f'{r["run_id"]} {r["verdict"]} {r["duration"]:.1f} s {r["started_at"]}'
        parts.append(f'<g class="run {escape(r["verdict"])}"><title>{escape(tip)}</title>'
                     f'{_mark(shape, x, y, colour)}</g>')
    legend_x = left
    for verdict, (colour, shape) in MARKS.items():
        parts.append(_mark(shape, legend_x + 5, height - 7, colour))
        parts.append(f'<text x="{legend_x + 14}" y="{height - 3}">{verdict}</text>')
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
