"""Audit output: terminal table, JSON, Markdown and a self-contained HTML matrix."""

from __future__ import annotations

import datetime
import html
import json
import re
from typing import Any, Sequence

from certkit import __version__
from certkit.audit.callshapes import shapes_by_method
from certkit.audit.class_audit import DRIFT, IMPLEMENTED, NO_IMPORT, NOT_IMPLEMENTED, UNKNOWN, ClassAudit
from certkit.catalogue import FEATURES
from certkit.manila_env import manila_version

MARKS = {IMPLEMENTED: "✓", NOT_IMPLEMENTED: "·", UNKNOWN: "?", DRIFT: "≠", NO_IMPORT: "✗"}
LEGEND = {IMPLEMENTED: "implemented (the code shows it; hover for the line)",
          NOT_IMPLEMENTED: "not implemented (a stub, absent, or the stats say so)",
          UNKNOWN: "unknown (needs a run: the code cannot show it)",
          DRIFT: "implemented, but a call the share manager makes cannot bind",
          NO_IMPORT: "cannot import the driver"}


def to_json(rows: Sequence[ClassAudit], doc_drift: Sequence[Any] | None = None) -> dict[str, Any]:
    """The JSON document (certkit/schemas/audit.schema.json)."""
    extra = {"doc_drift": [d.to_json() for d in doc_drift]} if doc_drift is not None else {}
    return {**extra, "format": 2, "certkit_version": __version__, "manila_version": manila_version(),
            "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "features": [f.id for f in FEATURES], "drivers": [r.to_json() for r in rows],
            "call_shapes": {m: [s.to_json() for s in shapes] for m, shapes in sorted(shapes_by_method().items())},
            "totals": cell_totals(rows)}


def cell_totals(rows: Sequence[ClassAudit]) -> dict[str, int]:
    """How many matrix cells carry each mark (audited rows only)."""
    totals = {mark: 0 for mark in MARKS if mark != NO_IMPORT}
    for row in rows:
        if row.imported:
            for mark in row.features.values():
                totals[mark] = totals.get(mark, 0) + 1
    return totals


def _short(path: str) -> str:
    return path.removeprefix("manila.share.drivers.")


def to_table(rows: Sequence[ClassAudit]) -> str:
    """One line per driver: feature count, DHSS modes, findings."""
    width = max([len(_short(r.path)) for r in rows] + [6])
    lines = [f"{'back end':<{width}}  impl  ?     dhss          findings"]
    for r in rows:
        if not r.imported:
            lines.append(f"{_short(r.path):<{width}}     -  -     -             cannot audit: {r.import_error}")
            continue
        count = sum(v in (IMPLEMENTED, DRIFT) for v in r.features.values())
        unknown = sum(v == UNKNOWN for v in r.features.values())
        modes = "?" if r.dhss_modes is None else "/".join(str(m).lower() for m in r.dhss_modes)
        findings = [f for f in r.findings if not f.startswith("info:")]
        first = findings[0] if findings else "-"
        more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
        lines.append(f"{_short(r.path):<{width}}  {count:>4}  {unknown:>3}  {modes:<12}  {first}{more}")
    audited = sum(r.imported for r in rows)
    lines.append(f"{len(rows)} back ends: {audited} audited, {len(rows) - audited} cannot be audited "
                 f"(manila {manila_version()})")
    return "\n".join(lines)


def md_code(text: str) -> str:
    """A Markdown code span that holds any text: the fence is longer than any run of backticks
    inside, pipes are escaped for tables, line breaks become spaces."""
    text = " ".join(text.replace("|", "\\|").split())
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_text(text: str) -> str:
    """Plain text for a Markdown table cell: Markdown and HTML metacharacters escaped."""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]|~!])", r"\\\1", text)


def to_markdown(rows: Sequence[ClassAudit]) -> str:
    """A Markdown matrix: back ends × features, then the findings."""
    head = "| back end | DHSS | " + " | ".join(f.id for f in FEATURES) + " |"
    sep = "|---|---|" + "---|" * len(FEATURES)
    body = []
    for r in rows:
        modes = "?" if r.dhss_modes is None else "/".join(str(m).lower() for m in r.dhss_modes)
        cells = [MARKS[r.features.get(f.id, NOT_IMPLEMENTED)] for f in FEATURES]
        body.append(f"| {md_code(_short(r.path))} | {modes if r.imported else '-'} | " + " | ".join(cells) + " |")
    legend = " · ".join(f"{MARKS[k]} {v}" for k, v in LEGEND.items())
    findings = [f"- {md_code(_short(r.path))}: {md_text(x)}" for r in rows for x in r.findings]
    return "\n".join([f"# Manila share back-end compatibility matrix (manila {manila_version()})", "",
                      f"Legend: {md_text(legend)}", "", head, sep, *body, "",
                      "## Findings", "", *(findings or ["none"]), ""])


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #ccc;padding:2px 5px;text-align:center;white-space:nowrap}
th{position:sticky;top:0;background:#f3f3f3;cursor:pointer;user-select:none}
th.rot{height:140px;vertical-align:bottom}
th.rot>div{writing-mode:vertical-rl;transform:rotate(180deg)}
td.name{text-align:left;font-family:monospace}
tr:nth-child(even){background:#fafafa} tr:hover{background:#eef5ff}
.implemented{background:#d8f5d8}.not-implemented{color:#999}.drift{background:#fff0b3}
.unknown{background:#e8ecf7;color:#456}
.cannot-import{background:#f8d0d0}.legend span{display:inline-block;margin-right:1.2em;padding:0 4px}
details{font-size:12px;text-align:left;white-space:normal;max-width:40em}
"""

_JS = """
document.querySelectorAll('th').forEach(function(th, col){
  th.addEventListener('click', function(){
    var body = th.closest('table').tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.dataset.dir !== 'asc'; th.dataset.dir = asc ? 'asc' : 'desc';
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.key || a.cells[col].textContent;
      var y = b.cells[col].dataset.key || b.cells[col].textContent;
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    rows.forEach(function(r){ body.appendChild(r); });
  });
});
"""


def to_html(rows: Sequence[ClassAudit]) -> str:
    """A single self-contained page (inline CSS and JS, no CDN); every string is escaped."""
    esc = html.escape
    version = esc(manila_version())
    head = "".join(f'<th class="rot" title="{esc(f.title)}"><div>{esc(f.id)}</div></th>' for f in FEATURES)
    order = {IMPLEMENTED: "0", DRIFT: "1", UNKNOWN: "2", NOT_IMPLEMENTED: "3", NO_IMPORT: "4"}
    body = []
    for r in rows:
        modes = "?" if r.dhss_modes is None else "/".join(str(m).lower() for m in r.dhss_modes)
        cells = "".join(
            f'<td class="{mark}" data-key="{order[mark]}" title="{esc(LEGEND[mark])}: '
            f'{esc(r.evidence.get(fid, ""))}">{MARKS[mark]}</td>'
            for fid, mark in ((f.id, r.features.get(f.id, NOT_IMPLEMENTED)) for f in FEATURES))
        findings = r.findings
        detail = (f"<details><summary>{len(findings)}</summary>"
                  + "<br>".join(esc(x) for x in findings) + "</details>") if findings else "0"
        count = sum(v in (IMPLEMENTED, DRIFT) for v in r.features.values())
        body.append(f'<tr><td class="name">{esc(_short(r.path))}</td><td>{esc(modes if r.imported else "-")}</td>'
                    f'<td data-key="{count:03d}">{count}</td>{cells}'
                    f'<td data-key="{len(findings):03d}">{detail}</td></tr>')
    legend = "".join(f'<span class="{k}">{MARKS[k]} {esc(v)}</span>' for k, v in LEGEND.items())
    generated = esc(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Manila driver compatibility matrix (manila {version})</title>"
            f"<style>{_CSS}</style></head><body>"
            f"<h1>Manila share driver compatibility matrix</h1>"
            f"<p>Static audit of {len(rows)} back ends against the ShareDriver ABC of "
            f"<strong>manila {version}</strong>, by certkit {esc(__version__)}, {generated}. "
            f"Click a column heading to sort.</p><p class=\"legend\">{legend}</p>"
            f"<table><thead><tr><th>driver</th><th>DHSS</th><th>features</th>{head}<th>findings</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table><script>{_JS}</script></body></html>\n")


def dumps_json(rows: Sequence[ClassAudit], doc_drift: Sequence[Any] | None = None) -> str:
    """JSON text."""
    return json.dumps(to_json(rows, doc_drift), indent=2) + "\n"
