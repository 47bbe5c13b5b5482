"""`certkit dashboard export DIR`: the whole site as static HTML plus JSON twins."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.orm import Session, sessionmaker

from certkit.dashboard import summary, svg, views
from certkit.dashboard.app import badge_for, unmaintained_to_csv
from certkit.dashboard.site import StaticLinks, release_slug, render
from certkit.files import atomic_write


def export_site(sessions: sessionmaker[Session], out: Path, rules: views.Rules | None = None,
                progress: Callable[[str], None] = lambda _: None) -> int:
    """Write every page (.html + .json) under `out`; returns the number of files written."""
    rules = rules or views.Rules()
    links = StaticLinks()
    written = 0

    def write(rel: str, text: str) -> None:
        nonlocal written
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
        written += 1

    def page(rel: str, template: str, data: dict[str, Any]) -> None:
        depth = rel.count("/")
        write(rel, render(template, data, links, root="../" * depth or "./"))
        write(rel[:-5] + ".json", json.dumps(data, indent=1))

    with sessions() as session:
        page("index.html", "summary.html", summary.summary(session, rules))
        matrix = views.matrix(session, rules=rules)
        page("matrix.html", "matrix.html", matrix)
        for release in matrix["releases"]:
            page(f"matrix/{release_slug(release)}.html", "matrix.html", views.matrix(session, release, rules=rules))
        page("ci.html", "ci.html", views.ci_health(session, rules))
        unmaintained = views.unmaintained(session, rules)
        page("unmaintained.html", "unmaintained.html", unmaintained)
        write("unmaintained.csv", unmaintained_to_csv(unmaintained))
        names = views.backend_names(session)
        for i, name in enumerate(names, 1):
            data = views.backend_page(session, name, rules=rules)
            assert data is not None
            base = links.backend(name)[:-5]
            page(base + ".html", "backend.html", data)
            write(base + "/history.svg", svg.history_plot(data["runs"]))
            write(base + "/badge.svg", badge_for(data))
            page(base + "/releases.html", "releases.html", views.backend_releases(session, name))
            progress(f"back end {i}/{len(names)}: {name}")
        for profile, run_id in views.run_keys(session):
            data = views.run_page(session, profile, run_id)
            if data is not None:
                page(links.run(profile, run_id), "run.html", data)
    static = resources.files("certkit.dashboard").joinpath("static")
    (out / "static").mkdir(parents=True, exist_ok=True)
    for entry in static.iterdir():
        with resources.as_file(entry) as src:
            shutil.copyfile(src, out / "static" / entry.name)
            written += 1
    return written
