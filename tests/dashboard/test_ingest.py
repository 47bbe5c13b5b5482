"""The ingest API: authentication, binding, idempotency, validation, limits, hostile input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from certkit.dashboard import synthetic
from certkit.dashboard.tokens import revoke_token
from tests.dashboard.conftest import audit_sample, bearer

HOSTILE = "<script>alert('x')</script>\"'><img src=x onerror=alert(1)>"


def post(client, report, token, **kw):
    return client.post("/api/v1/reports", content=json.dumps(report), headers=bearer(token), **kw)


def test_report_is_stored_once_and_a_replay_changes_nothing(client, token):
    report = synthetic.report("acme-nfs", "0000abcd", failing={1: "boom"})
    first = post(client, report, token)
    assert first.status_code == 201, first.text
    assert first.json()["url"].endswith("/runs/acme-nfs/0000abcd")
    stored = client.get("/api/v1/runs/acme-nfs/0000abcd.json").json()
    assert stored["verdict"] == "not-certified"
    assert [c["outcome"] for c in stored["report"]["checks"]].count("failed") == 1
    # The same run again, even with other content, is answered 200 and stores nothing new.
    tampered = {**report, "verdict": "certified", "checks": report["checks"][:2]}
    tampered["summary"] = {**report["summary"], "total": 2}
    again = post(client, tampered, token)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert client.get("/api/v1/runs/acme-nfs/0000abcd.json").json() == stored
    assert len(client.get("/backends/acme-nfs.json").json()["runs"]) == 1


def test_no_bad_or_revoked_token_is_401(client, token, sessions):
    report = synthetic.report("acme-nfs")
    assert client.post("/api/v1/reports", json=report).status_code == 401
    bad = post(client, report, token + "x")
    assert bad.status_code == 401 and bad.headers["content-type"] == "application/problem+json"
    assert "WWW-Authenticate" in bad.headers
    with sessions() as session:
        revoke_token(session, "acme-ci")
    assert post(client, report, token).status_code == 401
    assert client.get("/backends/acme-nfs.json").status_code == 404


def test_profile_outside_the_token_binding_is_403(client, token, admin_token):
    answer = post(client, synthetic.report("other-nfs"), token)
    assert answer.status_code == 403 and "other-nfs" in answer.json()["detail"]
    # A CI token may not publish audits or votes; the admin token may publish any profile.
    assert client.post("/api/v1/audits", json={}, headers=bearer(token)).status_code == 403
    assert client.post("/api/v1/ci-votes", json={}, headers=bearer(token)).status_code == 403
    assert post(client, synthetic.report("other-nfs"), admin_token).status_code == 201


def test_malformed_json_and_schema_errors_are_422_with_the_path(client, token):
    answer = client.post("/api/v1/reports", content=b"{not json", headers=bearer(token))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["message"].startswith("malformed JSON")
    report = synthetic.report("acme-nfs")
    report["checks"][3]["outcome"] = "maybe"
    del report["run_id"]
    body = post(client, report, token).json()
    assert body["status"] == 422
    paths = {e["path"] for e in body["errors"]}
    assert paths == {"/checks/3/outcome", ""}, body
    assert any("run_id" in e["message"] for e in body["errors"])
    bad_name = synthetic.report("acme-nfs")
    bad_name["profile"]["name"] = "acme-../../etc"
    assert post(client, bad_name, token).json()["errors"][0]["path"] == "/profile/name"


def test_what_the_fast_validator_passes_still_gets_jsonschemas_answer(client, token):
    """fastjsonschema accepts NaN and Infinity (certkit's schemas want finite numbers) and, like
    jsonschema here, may not know every format: those reports still get a 422 with the path."""
    for field, value, path in (("duration", float("nan"), "/checks/2/duration"),
                               ("duration", float("inf"), "/checks/2/duration"),
                               ("started_at", "yesterday", "/started_at"),
                               ("started_at", "2026-13-45T99:00:00Z", "/started_at")):
        report = synthetic.report("acme-nfs")
        if field == "duration":
            report["checks"][2]["duration"] = value
        else:
            report["started_at"] = value
        answer = post(client, report, token)  # json.dumps writes NaN/Infinity, as a sloppy client would
        assert answer.status_code == 422, (field, value, answer.text)
        assert [e["path"] for e in answer.json()["errors"]] == [path], answer.text
    assert client.get("/backends/acme-nfs.json").status_code == 404  # nothing was stored
    assert post(client, synthetic.report("acme-nfs"), token).status_code == 201


def test_size_limit_is_413(make_client, token):
    client = make_client(max_report_bytes=20_000)
    big = synthetic.report("acme-nfs", message="x" * 30_000)
    assert post(client, big, token).status_code == 413
    assert post(client, synthetic.report("acme-nfs"), token).status_code == 201


def test_rate_limit_per_token_is_429_with_retry_after(make_client, token, admin_token):
    client = make_client(reports_per_minute=6, burst=3)
    codes = [post(client, synthetic.report("acme-nfs"), token).status_code for _ in range(5)]
    assert codes[:3] == [201, 201, 201] and codes[3:] == [429, 429]
    limited = post(client, synthetic.report("acme-nfs"), token)
    assert int(limited.headers["Retry-After"]) >= 1
    # Another token has its own bucket.
    assert post(client, synthetic.report("acme-nfs"), admin_token).status_code == 201


def test_hostile_strings_are_shown_as_text_and_pages_forbid_scripts(client, token):
    report = synthetic.report("acme-nfs", "00000bad", driver=HOSTILE, vendor=HOSTILE,
                              failing={0: HOSTILE})
    assert post(client, report, token).status_code == 201
    for url in ("/matrix", "/backends/acme-nfs", "/runs/acme-nfs/00000bad", "/ci", "/unmaintained",
                "/backends/acme-nfs/releases"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, url
        assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
        assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in client.get("/runs/acme-nfs/00000bad").text
    assert "<script" not in client.get("/backends/acme-nfs/history.svg").text


def test_tokens_are_stored_hashed(tmp_path, sessions, token):
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("dash.sqlite*"))
    assert token.encode() not in raw and token[10:].encode() not in raw


def test_matrix_cells_say_how_each_feature_is_known(client, token, admin_token, sessions):
    from certkit.dashboard.ingest import store_profile

    with sessions() as session:
        store_profile(session, {"name": "acme-nfs", "vendor": "Acme", "driver": "acme.Driver",
                                "protocols": ["NFS"], "features": ["share", "extend", "snapshot",
                                                                    "backup"],
                                "maintainers": [{"name": "Ann"}], "ci": {"account": "acme-ci"}})
    now = datetime.now(timezone.utc)
    older = synthetic.report("acme-nfs", "00000000", driver="acme.Driver",
                             started_at=now - timedelta(days=3),
                             features=["share", "extend", "snapshot"], checks=6)
    assert post(client, older, token).status_code == 201
    # The run received last speaks for the cells (tests/dashboard/test_time.py: whatever its date).
    report = synthetic.report("acme-nfs", "00000001", driver="acme.Driver", started_at=now,
                              features=["share", "extend", "snapshot"], checks=6,
                              failing={2: "snapshot stuck in creating"})
    assert post(client, report, token).status_code == 201
    audit = audit_sample()
    assert client.post("/api/v1/audits", json=audit, headers=bearer(admin_token)).status_code == 201
    matrix = client.get("/matrix.json", params={"release": "2026.2 Hibiscus"}).json()
    rows = {r["backend"]: r["cells"] for r in matrix["rows"]}
    acme = rows["acme-nfs"]
    assert acme["share"]["state"] == "verified" and acme["share"]["age"]
    assert acme["snapshot"]["state"] == "failed"
    assert acme["snapshot"]["detail"] == "test_snapshot_2"
    assert acme["backup"]["state"] == "unverified"
    lvm = rows["lvm"]
    assert lvm["share"]["state"] == "code-only" and lvm["backup"]["state"] == "not-implemented"
    assert {r["backend"] for r in client.get("/matrix.json",
                                             params={"protocol": "NFS"}).json()["rows"]} == {"acme-nfs"}
    html = client.get("/matrix").text
    assert "claimed, unverified" in html and "code only" in html  # the legend: words, not colours
    unmaintained = {r["backend"]: r["status"] for r in client.get("/unmaintained.json").json()["backends"]}
    assert unmaintained["lvm"] == "no-ci" and "acme-nfs" not in unmaintained


def test_ci_votes_feed_ci_health_for_ci_without_certkit(client, admin_token):
    now = datetime.now(timezone.utc)
    for i, verified in enumerate([1, -1, -1, -1, 1]):
        vote = {"source": "gerrit", "account": "vendor-x-ci", "project": "openstack/manila",
                "change": 900 + i, "patchset": 1, "branch": "master", "verified": verified,
                "jobs": [{"name": "x-tempest", "result": "SUCCESS" if verified > 0 else "FAILURE"}],
                "seen_at": (now - timedelta(hours=10 - i)).isoformat(), "comment": HOSTILE}
        assert client.post("/api/v1/ci-votes", json=vote, headers=bearer(admin_token)).status_code == 201
    assert client.post("/api/v1/ci-votes", json=vote, headers=bearer(admin_token)).status_code == 200
    bad = client.post("/api/v1/ci-votes", json={**vote, "change": "x"}, headers=bearer(admin_token))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "/change"
    health = {a["account"]: a for a in client.get("/ci.json").json()["accounts"]}
    x = health["vendor-x-ci"]
    assert x["uses_certkit"] is False and x["votes_30d"] == 5
    assert x["vote_pass_rate_30d"] == 0.4 and x["longest_failing_streak"] == 3


def test_unmaintained_rules_with_evidence_and_csv(client, token, sessions):
    from sqlalchemy import select

    from certkit.dashboard.ingest import store_profile
    from certkit.dashboard.models import Backend

    now = datetime.now(timezone.utc)
    for name, days in (("acme-fresh", 1), ("acme-stale", 20), ("acme-dead", 70)):
        assert post(client, synthetic.report(name, started_at=now - timedelta(days=days)),
                    token).status_code == 201
    with sessions() as session:
        store_profile(session, {"name": "=cmd|calc", "vendor": "Evil", "driver": "x.Y",
                                "protocols": ["NFS"], "features": ["share"]})
        store_profile(session, {"name": "acme-new", "vendor": "Acme", "driver": "acme.New",
                                "protocols": ["NFS"], "features": ["share"]})
        session.get(Backend, session.scalar(select(Backend.id).where(Backend.name == "=cmd|calc"))
                    ).created_at = now - timedelta(days=30)
        session.commit()
    rows = {r["backend"]: r for r in client.get("/unmaintained.json").json()["backends"]}
    assert "acme-fresh" not in rows and "acme-new" not in rows  # passing; newly registered
    assert rows["acme-stale"]["status"] == "warning" and rows["acme-stale"]["days_since_pass"] == 20
    assert rows["acme-dead"]["status"] == "deprecation-candidate"
    assert rows["=cmd|calc"]["status"] == "warning"
    assert rows["=cmd|calc"]["evidence"] == ["no CI report in the 30 days since it was registered"]
    csv_text = client.get("/unmaintained.csv").text
    assert csv_text.splitlines()[0].startswith("backend,vendor,driver,status")
    assert "'=cmd|calc" in csv_text and "\n=cmd" not in csv_text
    missing = {m["backend"] for m in client.get("/ci.json").json()["expected_missing"]}
    assert missing == {"=cmd|calc"}  # acme-new was registered today: it has 7 days


def test_flaky_checks_and_history_plot(client, token):
    for report in synthetic.history("acme-nfs", 6, fail_every=2):
        assert post(client, report, token).status_code == 201
    page = client.get("/backends/acme-nfs.json").json()
    assert [f["name"] for f in page["flaky"]] == ["test_share_0"]
    assert page["flaky"][0]["flips"] == 5
    assert len(page["grid"]["runs"]) == 6 and len(page["grid"]["checks"]) == 8
    plot = client.get("/backends/acme-nfs/history.svg")
    assert plot.headers["content-type"].startswith("image/svg+xml")
    assert plot.text.count('class="run ') == 6
    badge = client.get("/backends/acme-nfs/badge.svg").text
    assert "not-certified" in badge or "certified" in badge


def test_cached_pages_follow_new_data(client, token):
    assert post(client, synthetic.report("acme-nfs", "00000001"), token).status_code == 201
    before = client.get("/matrix.json").json()
    assert client.get("/matrix").status_code == 200 and client.get("/backends/acme-nfs").status_code == 200
    failing = synthetic.report("acme-nfs", "00000002", failing={0: "now broken"})
    assert post(client, failing, token).status_code == 201
    after = client.get("/matrix.json").json()
    assert before["rows"][0]["cells"]["share"]["state"] == "verified"
    assert after["rows"][0]["cells"]["share"]["state"] == "failed"
    assert "00000002" in client.get("/backends/acme-nfs").text
    assert "test_share_0" in client.get("/matrix").text


def test_audit_format_2_rows_merge_per_driver_class():
    """Format 2 has one row per configuration of a delegating driver (Dell EMC: six back ends
    behind one class): the dashboard keys audits on the class, implemented if any row is."""
    from certkit.dashboard.ingest import audit_rows_by_class

    rows = json.loads((Path(__file__).parent / "audit_sample_v2.json").read_text())["drivers"]
    merged = {path: (features, findings) for path, features, findings in audit_rows_by_class(rows)}
    emc = "manila.share.drivers.dell_emc.driver.EMCShareDriver"
    assert set(merged) == {emc, "manila.share.drivers.lvm.LVMShareDriver",
                           "manila.share.drivers.cephfs.driver.CephFSDriver"}
    emc_rows = [r for r in rows if r["driver"] == emc]
    for feature in emc_rows[0]["features"]:
        statuses = {r["features"][feature] for r in emc_rows}
        assert (merged[emc][0][feature] == "implemented") == ("implemented" in statuses), feature
    labelled = [f["detail"] for f in merged[emc][1]]
    assert len(labelled) == sum(len(r["signature_findings"]) + len(r["claim_findings"])
                                for r in emc_rows)
    assert all(d.startswith("[emc_share_backend = ") for d in labelled)


def test_log_links_are_http_only(client, token):
    """A link that is not http(s) is refused with 422 naming the parameter (never dropped
    silently: the publisher would believe its logs are linked)."""
    report = synthetic.report("acme-nfs", "0000010c")
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "ftp://logs.example/x", "https://"):
        answer = client.post("/api/v1/reports", content=json.dumps(report), headers=bearer(token),
                             params={"logs_url": bad})
        assert answer.status_code == 422, bad
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["path"] == "?logs_url"
    assert client.get("/runs/acme-nfs/0000010c.json").status_code == 404  # nothing stored
    answer = client.post("/api/v1/reports", content=json.dumps(report), headers=bearer(token),
                         params={"logs_url": "https://logs.example/acme/42/"})
    assert answer.status_code == 201
    run = client.get("/runs/acme-nfs/0000010c")
    assert 'href="https://logs.example/acme/42/"' in run.text
    assert "javascript:" not in run.text and "no JUnit XML link" in run.text


def test_a_report_with_a_scale_section_and_a_manila_source_is_accepted(client, token):
    """Sub-schemas referenced from report.schema.json (scale.schema.json) resolve from the
    package's own files, never the network; a bad scale section is a 422 naming its path."""
    report = synthetic.report("acme-nfs", "0000beef")
    report["manila_source"] = {"project": "openstack/manila", "change": 123, "patchset": 2,
                               "ref": "refs/changes/23/123/2", "commit": "0" * 40}
    assert post(client, report, token).status_code == 201
    bad = {**synthetic.report("acme-nfs", "0000bad1"), "scale": {"steps": "many"}}
    answer = post(client, bad, token)
    assert answer.status_code == 422 and answer.json()["errors"][0]["path"].startswith("/scale")


def test_results_round_trip_on_both_databases(tmp_path, request):
    """Every check's outcome, duration and message come back as sent (PostgreSQL stores a run's
    results with one INSERT from arrays, SQLite with an executemany); a repeated check keeps
    its last row."""
    from certkit.dashboard import ingest, views
    from certkit.dashboard.db import open_database
    from tests.dashboard.services import fresh_database

    for url in (str(tmp_path / "r.sqlite"),
                fresh_database(request.getfixturevalue("postgres_url"))):
        sessions = open_database(url)
        report = synthetic.report("acme-nfs", "0000beef", checks=9,
                                  failing={2: HOSTILE, 5: "quota 'exceeded'"})
        report["checks"].append({**report["checks"][0], "outcome": "skipped", "message": "again"})
        with sessions() as session:
            assert ingest.store_report(session, report, "acme-ci").created
        with sessions() as session:
            page = views.run_page(session, "acme-nfs", "0000beef")
        got = {c["id"]: (c["outcome"], c["duration"], c["message"]) for c in page["report"]["checks"]}
        want = {c["id"]: (c["outcome"], c["duration"], c["message"]) for c in report["checks"]}
        assert got == want and len(got) == 9, url
        sessions.kw["bind"].dispose()
