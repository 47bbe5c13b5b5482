"""The summary a core reviewer decides from, and pages that say only what is true."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from certkit.dashboard import health, ingest, synthetic
from tests.dashboard.conftest import audit_sample, bearer


def post(client, report, token, **kw):
    return client.post("/api/v1/reports", content=json.dumps(report), headers=bearer(token), **kw)


def profile(name: str, **extra) -> dict:
    return {"name": name, "vendor": "Acme", "driver": f"acme.{name.replace('-', '_')}.Driver",
            "protocols": ["NFS"], "features": ["share", "snapshot"], "ci": {"account": "acme-ci"},
            "driver_handles_share_servers": False, **extra}


def seed_states(sessions, client, token) -> None:
    """One back end per state, plus one known only from the audit."""
    now = datetime.now(timezone.utc)
    with sessions() as session:
        for name in ("acme-pass", "acme-fail", "acme-flaky", "acme-stale", "acme-never",
                     "acme-fixed"):
            ingest.store_profile(session, profile(name))
    sequences = {  # oldest first, as received
        "acme-pass": [True, True, True],
        "acme-fail": [True, True, False],       # one regression: failing, not flaky
        "acme-flaky": [True, False, True],      # two flips: flaky
        "acme-fixed": [True, True, True, False, True],  # regression then fix: two flips
    }
    for name, verdicts in sequences.items():
        for i, ok in enumerate(verdicts):
            report = synthetic.report(name, f"{i:08x}", driver=f"acme.{name.replace('-', '_')}.Driver",
                                      started_at=now - timedelta(hours=len(verdicts) - i),
                                      failing=None if ok else {1: "snapshot stuck in creating"},
                                      features=["share", "snapshot"])
            assert post(client, report, token).status_code == 201
    stale = synthetic.report("acme-stale", "0000001a", driver="acme.acme_stale.Driver",
                             started_at=now - timedelta(days=9), features=["share", "snapshot"])
    assert post(client, stale, token).status_code == 201


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, tmp_path):
    """(sessions, client, token) on SQLite and on PostgreSQL (the summary reads its runs with a
    statement per back end on SQLite, one LATERAL join on PostgreSQL)."""
    from fastapi.testclient import TestClient

    from certkit.dashboard.app import create_app
    from certkit.dashboard.db import open_database
    from certkit.dashboard.tokens import create_token
    from tests.dashboard.services import fresh_database

    url = str(tmp_path / "s.sqlite") if request.param == "sqlite" else \
        fresh_database(request.getfixturevalue("postgres_url"))
    sessions = open_database(url)
    with sessions() as session:
        token = create_token(session, "acme-ci", ["acme-*"])
    yield sessions, TestClient(create_app(sessions)), token
    sessions.kw["bind"].dispose()


def test_summary_states_sort_and_filter_without_javascript(any_db):
    sessions, client, token = any_db
    seed_states(sessions, client, token)
    data = client.get("/summary.json").json()
    states = {r["backend"]: r["state"] for r in data["rows"]}
    assert states == {"acme-pass": "passing", "acme-fail": "failing", "acme-flaky": "flaky",
                      "acme-fixed": "flaky", "acme-stale": "stale", "acme-never": "never-reported"}
    # Worst first by default; the counts cover every back end whatever the filter.
    assert [r["state"] for r in data["rows"]] == sorted(
        states.values(), key=lambda s: health.STATE_ORDER[s])
    assert data["counts"] == {"failing": 1, "flaky": 2, "stale": 1, "never-reported": 1,
                              "passing": 1}
    failing = next(r for r in data["rows"] if r["backend"] == "acme-fail")
    assert failing["verdict"] == "not-certified" and failing["failed_checks"] == ["test_snapshot_1"]
    assert failing["last_vote"] is None and failing["ci_account"] == "acme-ci"
    stale = next(r for r in data["rows"] if r["backend"] == "acme-stale")
    assert stale["verdict"] == "certified" and stale["age"] == "9d"
    never = next(r for r in data["rows"] if r["backend"] == "acme-never")
    assert never["verdict"] is None and never["known_for"] == "<1m"

    # Filter and sort are query parameters: the HTML answers them with no script at all.
    page = client.get("/summary", params={"state": "failing,flaky", "sort": "backend"})
    assert page.status_code == 200
    shown = re.findall(r'<tr class="state-[^"]+" data-backend="([^"]+)" data-state="([^"]+)"',
                       page.text)
    assert shown == [("acme-fail", "failing"), ("acme-fixed", "flaky"), ("acme-flaky", "flaky")]
    assert "<script" not in page.text
    assert 'href="summary?state=stale"' in client.get("/summary").text  # the state links
    assert client.get("/", follow_redirects=False).headers["location"] == "/summary"
    assert client.get("/summary.json", params={"state": "green"}).status_code == 400
    assert client.get("/summary", params={"sort": "colour"}).status_code == 400


def test_a_not_certified_run_never_leaves_a_matrix_row_looking_green(client, token, sessions):
    seed_states(sessions, client, token)
    matrix = client.get("/matrix.json", params={"sort": "state"}).json()
    rows = {r["backend"]: r for r in matrix["rows"]}
    fail = rows["acme-fail"]
    assert fail["health"]["state"] == "failing" and not fail["health"]["certified"]
    assert fail["cells"]["snapshot"] == {**fail["cells"]["snapshot"], "state": "failed",
                                         "detail": "test_snapshot_1"}
    assert [r["health"]["state"] for r in matrix["rows"]][:1] == ["failing"]
    html = client.get("/matrix", params={"sort": "state"}).text
    row = re.search(r'<tr data-backend="acme-fail".*?</tr>', html, re.S).group(0)
    assert "not certified" in row and "failed: test_snapshot_1" in row
    assert 'class="scroll sticky"' in html and 'class="corner"' in html


def test_flaky_is_flips_within_a_window_and_variants_stay_apart(client, token):
    """[NFS] passes steadily; [CIFS] flips twice (flaky); check 3 regresses once (not flaky)."""
    outcomes = {"NFS": [True] * 5, "CIFS": [True, False, True, True, True]}
    regression = [True, True, True, False, False]
    now = datetime.now(timezone.utc)
    for i in range(5):
        report = synthetic.report("acme-nfs", f"{i:08x}", checks=4,
                                  started_at=now - timedelta(hours=5 - i))
        base = report["checks"][0]
        report["checks"] = [
            {**base, "variant": "NFS", "outcome": "passed" if outcomes["NFS"][i] else "failed"},
            {**base, "variant": "CIFS", "outcome": "passed" if outcomes["CIFS"][i] else "failed"},
            {**report["checks"][3], "outcome": "passed" if regression[i] else "failed"}]
        failed = sum(c["outcome"] == "failed" for c in report["checks"])
        report["summary"] = {**report["summary"], "total": 3, "passed": 3 - failed,
                             "failed": failed}
        report["verdict"] = "not-certified" if failed else "certified"
        assert post(client, report, token).status_code == 201
    page = client.get("/backends/acme-nfs.json").json()
    assert [(f["name"], f["variant"], f["flips"]) for f in page["flaky"]] == \
        [("test_share_0", "CIFS", 2)]
    html = client.get("/backends/acme-nfs").text
    flaky_table = re.search(r'<table id="flaky".*?</table>', html, re.S).group(0)
    assert "test_share_0 [CIFS]" in flaky_table and "[NFS]" not in flaky_table
    assert page["health"]["state"] == "failing"  # the regression is a regression
    # Run headers tell runs apart: received time and a short run id on each column.
    heads = re.findall(r'<th class="run">.*?</th>', html, re.S)
    assert len(heads) == 5 and len({h for h in heads}) == 5
    assert all(re.search(r"\d\d:\d\d", h) for h in heads)
    assert re.findall(r'<code class="rid">(\w+)</code>', "".join(heads)) == \
        [f"{i:08x}" for i in range(4, -1, -1)]  # newest received first


def test_claims_are_shown_as_claims_in_every_view(client, sessions):
    claims = {"access_types": {"NFS": ["ip", "user"]}, "access_levels": ["rw", "ro"],
              "driver_handles_share_servers": [True, False]}
    with sessions() as session:
        ingest.store_profile(session, profile("acme-nfs", **claims))
    summary = client.get("/summary.json").json()["rows"][0]
    assert summary["claims"] == claims
    assert summary["claims_text"] == "NFS: ip, user; levels rw, ro; DHSS true and false"
    # Derived claims are claims in the matrix: claimed, not yet verified (never "unknown").
    cells = client.get("/matrix.json").json()["rows"][0]["cells"]
    for feature in ("access_ip", "access_user", "access_ro", "share_servers"):
        assert cells[feature]["state"] == "unverified", feature
    assert cells["access_cert"]["state"] != "unverified"
    backend = client.get("/backends/acme-nfs").text
    assert re.search(r'id="claim-access-types">NFS: ip, user<', backend)
    assert re.search(r'id="claim-access-levels">rw, ro<', backend)
    assert "driver_handles_share_servers=true, driver_handles_share_servers=false" in backend
    assert client.get("/backends/acme-nfs.json").json()["backend"]["claims"] == claims
    assert "NFS: ip, user" in client.get("/matrix").text and "NFS: ip, user" in \
        client.get("/summary").text


def test_pages_never_say_all_is_well_while_back_ends_never_reported(client, sessions):
    with sessions() as session:
        ingest.store_profile(session, profile("acme-new"))
        ingest.store_audit(session, audit_sample())
    unmaintained = client.get("/unmaintained")
    assert "Every back end passed" not in unmaintained.text
    never = client.get("/unmaintained.json").json()["never_reported"]
    assert "acme-new" in {n["backend"] for n in never} and never[0]["known_for"]
    assert 'id="never-reported"' in unmaintained.text and "acme-new" in unmaintained.text
    ci = client.get("/ci")
    assert "<p>None" not in ci.text and "have never reported" in ci.text
    row = re.search(r'<tr data-backend="acme-new">.*?</tr>', ci.text, re.S).group(0)
    assert "profile" in row and "acme-ci" in row and "since" in row


@pytest.mark.parametrize("path", ["/matrix", "/matrix.json", "/summary", "/summary.json"])
def test_an_unknown_release_is_404(client, token, path):
    assert post(client, synthetic.report("acme-nfs"), token).status_code == 201
    assert client.get(path, params={"release": "2026.2 Hibiscus"}).status_code == 200
    answer = client.get(path, params={"release": "1999.1 Nonesuch"})
    assert answer.status_code == 404 and "1999.1 Nonesuch" in answer.text


def test_deeply_nested_json_is_422_problem_never_500(client, token):
    """Raw bytes 100,000 levels deep: the JSON parser's own recursion gives up, and the server
    answers a problem document. 65 levels (parseable) is refused by the depth limit."""
    for depth in (100_000, 65):
        for body in (b"[" * depth + b"]" * depth,
                     b'{"a":' * depth + b"1" + b"}" * depth):
            answer = client.post("/api/v1/reports", content=body, headers=bearer(token))
            assert answer.status_code == 422, (depth, answer.status_code)
            assert answer.headers["content-type"] == "application/problem+json"
            assert "nested" in answer.json()["detail"]


def test_long_messages_are_truncated_with_the_full_text_one_click_away(client, token):
    long = "export location missing: " + "x" * 5000 + " END"
    assert post(client, synthetic.report("acme-nfs", "0000f00d", failing={0: long}),
                token).status_code == 201
    html = client.get("/runs/acme-nfs/0000f00d").text
    cell = re.search(r'<td class="msg"><details><summary>(.*?)</summary><div class="full">(.*?)'
                     r'</div></details></td>', html, re.S)
    assert cell and len(cell.group(1)) < 400 and cell.group(2).endswith("x END")
    assert client.get("/runs/acme-nfs/0000f00d.json").json()["report"]["checks"][0]["message"] \
        == long


def test_history_axes_have_units_and_ticks_that_do_not_overlap(client, token):
    now = datetime.now(timezone.utc)
    for i in range(12):
        report = synthetic.report("acme-nfs", f"{i:08x}", started_at=now - timedelta(days=12 - i))
        report["duration"] = 600.0 + i * 30
        assert post(client, report, token).status_code == 201
    svg = client.get("/backends/acme-nfs/history.svg").text
    assert "duration (min)" in svg and "run started (UTC)" in svg
    ticks = [(float(x), label) for x, label in
             re.findall(r'<text x="([\d.]+)" y="2\d\d" text-anchor="\w+">(\d{4}-\d\d-\d\d)</text>',
                        svg)]
    assert len(ticks) == 5
    xs = sorted(x for x, _ in ticks)
    assert min(b - a for a, b in zip(xs, xs[1:])) > 80  # 10-character dates at 11 px


def test_a_scoped_pass_neither_certifies_nor_breaks_a_certification():
    """A scale-only pass after a certification leaves the back end passing; a scoped failure fails
    it; only scoped passes never make a back end look certified."""
    from datetime import datetime, timezone

    from certkit.dashboard.health import backend_state

    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert backend_state(["passed", "certified"], now, now) == "passing"
    assert backend_state(["failed", "certified"], now, now) == "failing"
    assert backend_state(["passed", "passed"], now, now) == "failing"
    assert backend_state(["passed", "not-certified"], now, now) == "failing"
