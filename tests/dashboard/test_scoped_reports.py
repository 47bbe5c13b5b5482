"""Suite-scoped reports (`certkit run --suite scale` alone) at ingest: stored with their verdict
and scope, and never turning a certification's verified cells into "unverified"."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from certkit.dashboard import synthetic
from tests.dashboard.conftest import bearer


def _scale_only(report: dict, feature: str) -> dict:
    """The report as a scale-only run of the same profile writes it: the features it did not
    exercise stay claimed and unverified, the verdict is scoped."""
    report["features"][feature] = {"claimed": True, "status": "unverified",
                                   "reason": "no required check ran for this feature"}
    report["checks"] = [c for c in report["checks"] if c["feature"] != feature]
    passed = sum(c["outcome"] == "passed" for c in report["checks"])
    report["summary"] = {**report["summary"], "total": len(report["checks"]), "passed": passed}
    report.update(verdict="passed", scope=["scale"], suites=["scale"],
                  selection={"suites": ["scale"], "keyword": None})
    return report


def test_a_scale_only_run_keeps_the_certifications_cells(client, token):
    now = datetime.now(timezone.utc)
    certification = synthetic.report("acme-nfs", "00000001", started_at=now - timedelta(hours=1),
                                     features=["share", "snapshot"], checks=4)
    posted = client.post("/api/v1/reports", content=json.dumps(certification), headers=bearer(token))
    assert posted.status_code == 201, posted.text
    scale = _scale_only(synthetic.report("acme-nfs", "00000002", started_at=now,
                                         features=["share", "snapshot"], checks=4), "snapshot")
    posted = client.post("/api/v1/reports", content=json.dumps(scale), headers=bearer(token))
    assert posted.status_code == 201, posted.text
    stored = client.get("/api/v1/runs/acme-nfs/00000002.json").json()
    assert (stored["verdict"], stored["report"]["scope"]) == ("passed", ["scale"])
    cells = {r["backend"]: r["cells"] for r in client.get("/matrix.json").json()["rows"]}["acme-nfs"]
    assert cells["snapshot"]["state"] == "verified"  # the certification's, not the scale run's
    # without a scope (a run that could certify), an unverified feature is shown as such
    full = _scale_only(synthetic.report("acme-nfs", "00000003", started_at=now + timedelta(minutes=1),
                                        features=["share", "snapshot"], checks=4), "snapshot")
    full.update(verdict="not-certified", scope=None, suites=["contract"],
                selection={"suites": ["contract"], "keyword": None})
    posted = client.post("/api/v1/reports", content=json.dumps(full), headers=bearer(token))
    assert posted.status_code == 201, posted.text
    cells = {r["backend"]: r["cells"] for r in client.get("/matrix.json").json()["rows"]}["acme-nfs"]
    assert cells["snapshot"]["state"] == "unverified"


def test_a_scoped_verdict_without_its_scope_is_refused(client, token):
    report = synthetic.report("acme-nfs", "00000004")
    report["verdict"] = "passed"
    answer = client.post("/api/v1/reports", content=json.dumps(report), headers=bearer(token))
    assert answer.status_code == 422 and "scope" in answer.text, answer.text
