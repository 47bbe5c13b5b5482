"""`certkit dashboard export`: a static site whose every link resolves to a written file."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from certkit.dashboard import ingest, synthetic
from certkit.dashboard.export import export_site
from tests.dashboard.conftest import audit_sample


def test_export_writes_pages_json_twins_and_links_that_resolve(sessions, tmp_path):
    with sessions() as session:
        ingest.store_profile(session, {"name": "acme-nfs", "vendor": "Acme", "driver": "acme.D",
                                       "protocols": ["NFS"], "features": ["share", "snapshot"]})
    for report in synthetic.history("acme-nfs", 3, driver="acme.D") + \
            [synthetic.report("other", "0000aaaa", manila_version="22.1.0")]:
        with sessions() as session:
            ingest.store_report(session, report, "acme-ci")
    audit = audit_sample()
    with sessions() as session:
        ingest.store_audit(session, audit)
    out = tmp_path / "site"
    count = export_site(sessions, out)
    assert count > 20
    matrix = json.loads((out / "matrix.json").read_text())
    classes = {row.get("driver") or row["class"] for row in audit["drivers"]}
    assert matrix["release"] == "2026.2 Hibiscus" and len(matrix["rows"]) == 2 + len(classes)
    summary = json.loads((out / "index.json").read_text())  # the front page is the summary
    assert len(summary["rows"]) == 2 + len(classes)
    assert summary["counts"]["never-reported"] == len(classes)
    assert (out / "matrix" / "2026.1-Gazpacho.html").exists()
    assert (out / "runs" / "acme-nfs" / "00000002.json").exists()
    assert (out / "unmaintained.csv").read_text().startswith("backend,")
    pages = list(out.rglob("*.html"))
    for page in pages:
        html = page.read_text()
        base = re.search(r'<base href="([^"]+)">', html).group(1)
        root = (page.parent / base).resolve()
        assert root == out.resolve(), page
        for href in re.findall(r'(?:href|src)="([^"]+)"', html):
            if href.startswith(("http", "#")) or href == base:
                continue
            target = root / unquote(href)
            assert target.exists(), f"{page.relative_to(out)} links to missing {href}"


def test_openapi_describes_every_page_and_its_json_twin(client):
    spec = client.get("/openapi.json").json()
    for path in ("/summary", "/summary.json", "/matrix", "/matrix.json", "/backends/{name}", "/backends/{name}.json",
                 "/runs/{profile}/{run_id}.json", "/ci.json", "/unmaintained.json",
                 "/api/v1/reports", "/api/v1/audits", "/api/v1/ci-votes"):
        assert path in spec["paths"], path
    params = spec["paths"]["/runs/{profile}/{run_id}.json"]["get"]["parameters"]
    assert [p["name"] for p in params] == ["profile", "run_id"]
    assert {p["name"] for p in spec["paths"]["/matrix"]["get"]["parameters"]} == \
        {"release", "vendor", "protocol", "sort"}
    assert {p["name"] for p in spec["paths"]["/summary"]["get"]["parameters"]} == \
        {"release", "state", "sort"}
