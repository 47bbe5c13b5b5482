"""Time the server can trust: refused impossible times, newest received speaks, the migration."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from certkit.dashboard import synthetic
from certkit.dashboard.db import MIGRATIONS, make_engine, open_database
from tests.dashboard.conftest import audit_sample, bearer


def post(client, report, token):
    return client.post("/api/v1/reports", content=json.dumps(report), headers=bearer(token))


@pytest.mark.parametrize("when, words", [
    (timedelta(days=365), "is in the future"),
    (timedelta(minutes=10), "is in the future"),
    (-timedelta(days=365 * 30), "before Manila existed"),
])
def test_impossible_times_are_refused_naming_the_field(client, token, admin_token, when, words):
    """Refused (422), never clamped: a stored time is always the client's own and plausible."""
    at = datetime.now(timezone.utc) + when
    answer = post(client, synthetic.report("acme-nfs", "0000a001", started_at=at), token)
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["errors"][0]["path"] == "/started_at" and words in problem["detail"]
    assert client.get("/backends/acme-nfs.json").status_code == 404  # nothing stored
    audit = {**audit_sample(), "generated_at": at.isoformat()}
    answer = client.post("/api/v1/audits", json=audit, headers=bearer(admin_token))
    assert answer.status_code == 422 and answer.json()["errors"][0]["path"] == "/generated_at"
    vote = {"source": "gerrit", "account": "x-ci", "project": "openstack/manila", "change": 1,
            "patchset": 1, "verified": 1, "seen_at": at.isoformat()}
    answer = client.post("/api/v1/ci-votes", json=vote, headers=bearer(admin_token))
    assert answer.status_code == 422 and answer.json()["errors"][0]["path"] == "/seen_at"


def test_a_small_clock_skew_is_forgiven(client, token):
    ahead = datetime.now(timezone.utc) + timedelta(minutes=2)
    assert post(client, synthetic.report("acme-nfs", "0000a002", started_at=ahead),
                token).status_code == 201


def test_the_newest_received_run_speaks_whatever_its_date(client, token):
    """A report dated as late as the server allows cannot pin the back end: the run received
    after it (dated earlier) decides the state and the cells."""
    now = datetime.now(timezone.utc)
    pinned = synthetic.report("acme-nfs", "0000b001", started_at=now + timedelta(minutes=4))
    assert post(client, pinned, token).status_code == 201
    later = synthetic.report("acme-nfs", "0000b002", started_at=now - timedelta(hours=1),
                             failing={0: "share did not reach available"})
    assert post(client, later, token).status_code == 201
    row = client.get("/summary.json").json()["rows"][0]
    assert row["run_id"] == "0000b002" and row["state"] == "failing" and row["age"] == "1h"
    cells = client.get("/matrix.json").json()["rows"][0]["cells"]
    assert cells["share"]["state"] == "failed"
    assert client.get("/backends/acme-nfs.json").json()["runs"][0]["run_id"] == "0000b002"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_from_the_previous_head_keeps_and_backfills_data(tmp_path, request, backend):
    """A database at 0002 with a run and its cells migrates: cells get the run's received time,
    back ends an empty claims object; the new index exists; the summary reads the old run."""
    from sqlalchemy import inspect

    from certkit.dashboard import summary
    from certkit.dashboard.db import as_utc
    from tests.dashboard.services import fresh_database

    url = str(tmp_path / "old.sqlite") if backend == "sqlite" else \
        fresh_database(request.getfixturevalue("postgres_url"))
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    received = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    started = received - timedelta(minutes=4)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO backends (id, name, vendor, driver, protocols, maintainers, ci_account, "
            "claimed, has_profile, created_at) VALUES (1, 'acme-nfs', 'Acme', 'acme.D', '[]', "
            "'[]', 'acme-ci', '[\"share\"]', :yes, :created)"),
            {"yes": True, "created": started - timedelta(days=1)})
        conn.execute(text(
            "INSERT INTO runs (id, backend_id, run_id, account, release, manila_version, "
            "manila_change, driver_version, verdict, started_at, received_at, duration, passed, "
            "failed, total, header) VALUES (1, 1, '0000abcd', 'acme-ci', '2026.2 Hibiscus', "
            "'23.0.0', '', '', 'certified', :started, :received, 1.0, 1, 0, 1, '{}')"),
            {"started": started, "received": received})
        conn.execute(text(
            "INSERT INTO cells (backend_id, release, feature, status, run_pk, observed_at, "
            "verified_at, detail) VALUES (1, '2026.2 Hibiscus', 'share', 'verified', 1, "
            ":started, :started, '')"), {"started": started})
    engine.dispose()
    sessions = open_database(url)  # migrates to head
    with sessions() as session:
        db = session.connection()
        value = db.execute(text("SELECT received_at FROM cells")).scalar()
        value = datetime.fromisoformat(value) if isinstance(value, str) else value
        assert as_utc(value) == received
        claims = db.execute(text("SELECT claims FROM backends")).scalar()
        assert (json.loads(claims) if isinstance(claims, str) else claims) == {}
        assert "ix_runs_backend_received" in {i["name"] for i in inspect(db).get_indexes("runs")}
        row = summary.summary(session)["rows"][0]
    assert row["run_id"] == "0000abcd" and row["state"] == "stale"
    sessions.kw["bind"].dispose()
