"""Rendering pages: one Jinja2 environment (autoescaped) and the links between pages.

Links are relative to the site root, which each page sets with <base href>, so the same templates
serve the live site (/backends/x) and the static export (backends/x.html).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from html import escape as escape_text

from markupsafe import Markup

from certkit.dashboard.views import CELL_STATES


def release_slug(release: str) -> str:
    """A file-name form of a release: `2024.2 Dalmatian` -> `2024.2-Dalmatian`."""
    return quote(release.replace(" ", "-"), safe="")


class Links:
    """URLs of the live site, relative to its root."""

    static = False
    suffix = ""

    def page(self, path: str, **query: str) -> str:
        query = {k: v for k, v in query.items() if v}
        return path + self.suffix + (("?" + urlencode(query)) if query and not self.static else "")

    def summary(self, state: str = "", sort: str = "", release: str = "") -> str:
        """The summary page (state, worst first, is its default order: left out of links)."""
        return self.page("summary", release=release, state=state,
                         sort="" if sort == "state" else sort)

    def matrix(self, release: str = "", vendor: str = "", protocol: str = "",
               sort: str = "") -> str:
        return self.page("matrix", release=release, vendor=vendor, protocol=protocol, sort=sort)

    def backend(self, name: str) -> str:
        return self.page(f"backends/{quote(name, safe='')}")

    def backend_releases(self, name: str) -> str:
        return self.page(f"backends/{quote(name, safe='')}/releases")

    def history_svg(self, name: str) -> str:
        return f"backends/{quote(name, safe='')}/history.svg"

    def badge_svg(self, name: str) -> str:
        return f"backends/{quote(name, safe='')}/badge.svg"

    def run(self, profile: str, run_id: str) -> str:
        return self.page(f"runs/{quote(profile, safe='')}/{quote(run_id, safe='')}")

    def ci(self) -> str:
        return self.page("ci")

    def unmaintained(self, csv: bool = False) -> str:
        return "unmaintained.csv" if csv else self.page("unmaintained")

    def json(self, path: str) -> str:
        """The JSON twin of a page path (query string kept on the live site)."""
        base, _, query = path.partition("?")
        if base.endswith(".html"):
            base = base[:-5]
        return base + ".json" + ("?" + query if query else "")


class StaticLinks(Links):
    """URLs of the exported site: files with .html, one matrix file per release."""

    static = True
    suffix = ".html"

    def summary(self, state: str = "", sort: str = "", release: str = "") -> str:
        return "index.html"

    def matrix(self, release: str = "", vendor: str = "", protocol: str = "",
               sort: str = "") -> str:
        return f"matrix/{release_slug(release)}.html" if release else "matrix.html"


def cell_html(cell: dict[str, Any]) -> str:
    """One matrix cell: symbol, hidden label, visible age and failing check, every value escaped.
    Built in Python rather than by a macro: a matrix has thousands of cells."""
    state = cell["state"]
    symbol, label, _ = CELL_STATES[state]
    title = label + (f": {cell['detail']}" if cell.get("detail") else "") + \
        (f" ({cell['observed_at']})" if cell.get("observed_at") else "")
    html = (f'<td class="cell {escape_text(state)}" title="{escape_text(title)}">'
            f'<span class="sym" aria-hidden="true">{symbol}</span><span class="lbl">{label}</span>')
    if cell.get("age"):
        html += f'<span class="age">{escape_text(cell["age"])}</span>'
    if state == "failed" and cell.get("detail"):
        html += f'<span class="why">{escape_text(cell["detail"])}</span>'
    return html + "</td>"


def cells_html(cells: dict[str, dict[str, Any]], keys: list[str]) -> Markup:
    """A row of cells in `keys` order."""
    return Markup("".join(cell_html(cells[k]) for k in keys))


OUTCOME_LETTERS = {"passed": "P", "failed": "F", "error": "E", "skipped": "s", None: ""}


def outcome_cells(outcomes: list[str | None]) -> Markup:
    """A check's row of the checks x runs grid (outcomes are from a fixed set: nothing to escape)."""
    return Markup("".join(f'<td class="o {o or "none"}" title="{o or "not run"}">'
                          f'{OUTCOME_LETTERS[o]}</td>' for o in outcomes))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The templates, HTML-escaped everywhere (hostile names and messages render as text)."""
    env = Environment(loader=PackageLoader("certkit.dashboard", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.globals["cell_states"] = CELL_STATES
    env.globals["cells"] = cells_html
    env.globals["outcome_cells"] = outcome_cells
    return env


def render(template: str, data: dict[str, Any], links: Links, root: str = "/") -> str:
    """A page as HTML."""
    return environment().get_template(template).render(data=data, links=links, root=root,
                                                       static=links.static)
