"""Audit output: terminal table, JSON, Markdown and a self-contained HTML matrix."""

from __future__ import annotations

import datetime
import html
import json
from typing import Any, Sequence

from certkit import __version__
from certkit.audit.class_audit import DRIFT, IMPLEMENTED, NO_IMPORT, NOT_IMPLEMENTED, ClassAudit
from certkit.contract.catalogue import FEATURES
from certkit.manila_env import manila_version

MARKS = {IMPLEMENTED: "✓", NOT_IMPLEMENTED: "·", DRIFT: "≠", NO_IMPORT: "✗"}
LEGEND = {IMPLEMENTED: "implemented", NOT_IMPLEMENTED: "not implemented",
          DRIFT: "implemented, but a method's signature drifts from the ABC",
          NO_IMPORT: "cannot import the driver"}


def to_json(rows: Sequence[ClassAudit]) -> dict[str, Any]:
    """The JSON document (certkit/schemas/audit.schema.json)."""
    return {"format": 1, "certkit_version": __version__, "manila_version": manila_version(),
            "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "features": [f.id for f in FEATURES], "drivers": [r.to_json() for r in rows]}


def _short(path: str) -> str:
    return path.removeprefix("manila.share.drivers.")


def to_table(rows: Sequence[ClassAudit]) -> str:
    """One line per driver: feature count, DHSS modes, findings."""
    width = max([len(_short(r.path)) for r in rows] + [6])
    lines = [f"{'driver':<{width}}  impl  dhss          findings"]
    for r in rows:
        if not r.imported:
            lines.append(f"{_short(r.path):<{width}}     -  -             cannot import: {r.import_error}")
            continue
        count = sum(v in (IMPLEMENTED, DRIFT) for v in r.features.values())
        modes = "?" if r.dhss_modes is None else "/".join(str(m).lower() for m in r.dhss_modes)
        findings = r.findings
        first = findings[0] if findings else "-"
        more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
        lines.append(f"{_short(r.path):<{width}}  {count:>4}  {modes:<12}  {first}{more}")
    audited = sum(r.imported for r in rows)
    lines.append(f"{len(rows)} targets: {audited} audited, {len(rows) - audited} cannot import "
                 f"(manila {manila_version()})")
    return "\n".join(lines)


def to_markdown(rows: Sequence[ClassAudit]) -> str:
    """A Markdown matrix: drivers × features."""
    head = "| driver | DHSS | " + " | ".join(f.id for f in FEATURES) + " |"
    sep = "|---|---|" + "---|" * len(FEATURES)
    body = []
    for r in rows:
        modes = "?" if r.dhss_modes is None else "/".join(str(m).lower() for m in r.dhss_modes)
        cells = [MARKS[r.features.get(f.id, NOT_IMPLEMENTED)] for f in FEATURES]
        name = _short(r.path).replace("|", "\\|")
        body.append(f"| `{name}` | {modes if r.imported else '-'} | " + " | ".join(cells) + " |")
    legend = " · ".join(f"{MARKS[k]} {v}" for k, v in LEGEND.items())
    return "\n".join([f"# Manila share driver compatibility matrix (manila {manila_version()})", "",
                      f"Legend: {legend}", "", head, sep, *body, ""])


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
    order = {IMPLEMENTED: "0", DRIFT: "1", NOT_IMPLEMENTED: "2", NO_IMPORT: "3"}
    body = []
    for r in rows:
        modes = "?" if r.dhss_modes is None else "/".join(str(m).lower() for m in r.dhss_modes)
        cells = "".join(
            f'<td class="{mark}" data-key="{order[mark]}" title="{esc(LEGEND[mark])}">{MARKS[mark]}</td>'
            for mark in (r.features.get(f.id, NOT_IMPLEMENTED) for f in FEATURES))
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
            f"<p>Static audit of {len(rows)} driver classes against the ShareDriver ABC of "
            f"<strong>manila {version}</strong>, by certkit {esc(__version__)}, {generated}. "
            f"Click a column heading to sort.</p><p class=\"legend\">{legend}</p>"
            f"<table><thead><tr><th>driver</th><th>DHSS</th><th>features</th>{head}<th>findings</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table><script>{_JS}</script></body></html>\n")


def dumps_json(rows: Sequence[ClassAudit]) -> str:
    """JSON text."""
    return json.dumps(to_json(rows), indent=2) + "\n"
