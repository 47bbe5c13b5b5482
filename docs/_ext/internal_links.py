"""Check every internal link of a built HTML site: the file exists and so does the #anchor.

Sphinx's `linkcheck` builder checks external links (which need the network); this checks the
links between pages of the site itself. Usable as a module (`broken_links(site)`) and as a
command: `python docs/_ext/internal_links.py docs/_build/html` prints each broken link and
exits 1 when there is one.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    """The ids a page defines and the links it makes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(values[key])
        for key in ("href", "src"):
            if values.get(key) is not None and tag in ("a", "img", "link", "script"):
                self.links.append(values[key])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(errors="replace"))
    return page


def broken_links(site: Path) -> list[str]:
    """`page: link (reason)` for every internal link that does not resolve."""
    site = site.resolve()
    pages = {path: _parse(path) for path in sorted(site.rglob("*.html"))}
    problems = []
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue  # external: Sphinx's linkcheck builder's job
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(site)}: {link}"
            if not target.is_relative_to(site):
                problems.append(f"{where} (outside the site)")
            elif not target.exists():
                problems.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{where} (no anchor #{parts.fragment})")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: internal_links.py SITE_DIR", file=sys.stderr)
        return 2
    site = Path(argv[0])
    if not (site / "index.html").exists():
        print(f"internal_links: {site}/index.html does not exist (build the site first)", file=sys.stderr)
        return 2
    problems = broken_links(site)
    for problem in problems:
        print(f"broken link: {problem}")
    count = sum(1 for _ in site.rglob("*.html"))
    print(f"internal links: {count} pages, {len(problems)} broken", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
