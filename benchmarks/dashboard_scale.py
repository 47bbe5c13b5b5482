"""Dashboard at scale: generated history, then page latencies, ingest rate and database size.

    python benchmarks/dashboard_scale.py                      # SQLite, full size (50,000 runs)
    python benchmarks/dashboard_scale.py --runs 10000         # a smaller history
    python benchmarks/dashboard_scale.py --db postgresql://user@127.0.0.1:5432/db
    python benchmarks/dashboard_scale.py --postgres           # start a throw-away PostgreSQL

Shape: 60 back ends x 35 features x 5 Manila releases, `--runs` runs of 80 checks each, spread
over 180 days. History is bulk-inserted (executemany on SQLite, COPY on PostgreSQL); pages are
then timed in-process through the ASGI app (rendering included, no network), and ingest through
the real POST /api/v1/reports path (validation, auth, storage, cell updates): in-process, through
uvicorn in this process, and to `certkit dashboard serve` in its own process (as deployed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from certkit.dashboard import synthetic
from certkit.dashboard.app import Settings, create_app
from certkit.dashboard.db import open_database
from certkit.dashboard.models import Backend, Cell, CheckDef, CiVote, Run
from certkit.dashboard.releases import release_of
from certkit.dashboard.tokens import create_token

from results import record

BACKENDS, FEATURES, RELEASES, CHECKS = 60, 35, 5, 80
MANILA = ["19.0.0", "20.1.0", "21.0.0", "22.0.1", "23.0.0"]


def generate(sessions, runs: int, seed: int = 7) -> float:
    """Bulk-insert the history; returns seconds taken."""
    rng = random.Random(seed)
    start = time.perf_counter()
    features = synthetic.FEATURE_IDS + [f"vendor_extra_{i}" for i in range(FEATURES - 30)]
    features = features[:FEATURES]
    now = datetime.now(timezone.utc)
    with sessions() as s:
        engine = s.get_bind()
        s.add_all(Backend(name=f"vendor{b // 3}-backend{b}", vendor=f"Vendor {b // 3}",
                          driver=f"vendor{b // 3}.drivers.Driver{b}",
                          protocols=[["NFS"], ["CIFS"], ["NFS", "CIFS"], ["CEPHFS"]][b % 4],
                          maintainers=[{"name": f"Maintainer {b}"}], ci_account=f"vendor{b // 3}-ci",
                          claimed=features[: 10 + b % 25], has_profile=True, created_at=now)
                  for b in range(BACKENDS))
        ids = synthetic.check_ids(CHECKS, seed)
        s.add_all(CiVote(source="gerrit", account=f"vendor{a}-ci", project="openstack/manila",
                         change=900000 + a * 100 + v, patchset=1, branch="master",
                         verified=1 if (a + v) % 4 else -1, jobs=[],
                         seen_at=now - timedelta(hours=6 * v + a), comment="")
                  for a in range(BACKENDS // 3) for v in range(50))
        s.add_all(CheckDef(check_id=cid, variant="", name=f"test_{features[i % FEATURES]}_{i}",
                           suite="contract", feature=features[i % FEATURES], level="required")
                  for i, cid in enumerate(ids))
        s.commit()
        backend_pks = [pk for (pk,) in s.execute(select(Backend.id).order_by(Backend.id))]
        check_pks = [pk for (pk,) in s.execute(select(CheckDef.id).order_by(CheckDef.id))]
    run_rows, result_rows, last = [], [], {}
    header_features = {f: {"claimed": True, "status": "verified", "required_checks": 3, "passed": 3}
                       for f in features}
    for n in range(runs):
        b = n % BACKENDS
        started = now - timedelta(days=180 * (runs - n) / runs)
        manila = MANILA[(n // BACKENDS) % RELEASES]
        failing = rng.random() < 0.15
        run_pk = n + 1
        run_rows.append({"id": run_pk, "backend_id": backend_pks[b], "run_id": f"{n:08x}",
                         "account": f"vendor{b // 3}-ci", "release": release_of(manila),
                         "manila_version": manila, "manila_change": "", "driver_version": "",
                         "verdict": "not-certified" if failing else "certified",
                         "started_at": started, "received_at": started, "duration": 300 + rng.random() * 60,
                         "passed": CHECKS - failing, "failed": int(failing), "total": CHECKS,
                         "header": {"profile": {"name": f"backend{b}"}, "features": header_features,
                                    "reasons": [], "warnings": [], "leaks": []}})
        bad = rng.randrange(CHECKS) if failing else -1
        for i, pk in enumerate(check_pks):
            result_rows.append((run_pk, pk, 1 if i == bad else 0, 0.1 + (i % 9) * 0.05,
                                "export location missing" if i == bad else None))
        last[(b, release_of(manila))] = (run_pk, started, failing)
        if len(run_rows) >= 2000 or n == runs - 1:
            _flush(engine, run_rows, result_rows)
            run_rows, result_rows = [], []
            print(f"  generated {n + 1}/{runs} runs ({time.perf_counter() - start:.0f} s)",
                  file=sys.stderr, flush=True)
    with sessions() as s:
        s.add_all(Cell(backend_id=backend_pks[b], release=rel, feature=f,
                       status="failed" if failing and i == 0 else "verified", run_pk=run_pk,
                       observed_at=started, received_at=started, verified_at=started, detail="")
                  for (b, rel), (run_pk, started, failing) in last.items()
                  for i, f in enumerate(features[: 10 + b % 25]))
        s.commit()
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT setval('runs_id_seq', (SELECT max(id) FROM runs))"))
            s.commit()
    with sessions() as s:
        s.execute(text("ANALYZE"))
        s.commit()
    return time.perf_counter() - start


def _flush(engine, runs: list[dict], results: list[tuple]) -> None:
    with engine.begin() as conn:
        conn.execute(Run.__table__.insert(), runs)
        raw = conn.connection.driver_connection
        if engine.dialect.name == "postgresql":
            with raw.cursor() as cur:
                with cur.copy("COPY results (run_pk, check_pk, outcome, duration, message) "
                              "FROM STDIN") as copy:
                    for row in results:
                        copy.write_row(row)
        else:
            raw.executemany("INSERT INTO results (run_pk, check_pk, outcome, duration, message) "
                            "VALUES (?, ?, ?, ?, ?)", results)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


CPU: dict[str, list[float]] = {}


def timed(client: TestClient, urls: list[str], name: str = "") -> list[float]:
    """Wall-clock ms per request; CPU ms (this process, all threads) go to CPU[name].
    On a shared, loaded machine the CPU figure is the one that says what the code costs."""
    out, cpu = [], CPU.setdefault(name, [])
    for url in urls:
        t, c = time.perf_counter(), time.process_time()
        answer = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
    return out


def ingest_over_http(sessions, token: str, bodies: list[str], clients: int) -> float:
    """Reports/s through a real uvicorn server on loopback with `clients` concurrent publishers."""
    import threading

    import uvicorn

    from tests.dashboard.services import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(sessions, Settings(reports_per_minute=0)),
                                           host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        return publish_all(f"http://127.0.0.1:{port}", token, bodies, clients)
    finally:
        server.should_exit = True
        thread.join(10)


def publish_all(url: str, token: str, bodies: list[str], clients: int) -> float:
    """POST every body with `clients` concurrent publishers; returns reports/s (wall)."""
    import threading

    import requests

    failures: list[str] = []

    def publish(chunk: list[str]) -> None:
        http = requests.Session()
        http.headers.update({"Authorization": f"Bearer {token}",
                             "Content-Type": "application/json"})
        for body in chunk:
            answer = http.post(f"{url}/api/v1/reports", data=body, timeout=60)
            if answer.status_code != 201:
                failures.append(answer.text[:200])

    workers = [threading.Thread(target=publish, args=(bodies[i::clients],)) for i in range(clients)]
    t = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    rate = len(bodies) / (time.perf_counter() - t)
    assert not failures, failures[:3]
    return rate


def ingest_to_server_process(db_url: str, token: str, bodies: list[str],
                             clients: int) -> tuple[float, float]:
    """`certkit dashboard serve` in its own process, as deployed: (reports/s wall, reports per
    CPU-second of the server process)."""
    from tests.dashboard.services import DashboardServer

    server = DashboardServer(db_url, "--rate-limit", "0").start()
    try:
        def cpu() -> float:
            fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        before = cpu()
        rate = publish_all(server.url, token, bodies, clients)
        return rate, len(bodies) / max(cpu() - before, 1e-9)
    finally:
        server.stop()


def in_app_cpu(sessions, names: list[str], releases: list[str], rng: random.Random,
               count: int) -> dict[str, list[float]]:
    """CPU ms of the view query plus template rendering, without the test client's threads."""
    from certkit.dashboard import views
    from certkit.dashboard.site import Links, render

    out: dict[str, list[float]] = {"matrix page": [], "back-end page": []}
    for _ in range(count):
        with sessions() as s:
            c = time.process_time()
            render("matrix.html", views.matrix(s, rng.choice(releases)), Links())
            out["matrix page"].append((time.process_time() - c) * 1000)
            c = time.process_time()
            render("backend.html", views.backend_page(s, rng.choice(names)), Links())
            out["back-end page"].append((time.process_time() - c) * 1000)
    return out


def explain(sessions, name: str) -> None:
    """Print the plan of each query the back-end page makes for one back end (index use)."""
    from sqlalchemy import event

    from certkit.dashboard import views

    statements: list[tuple[str, object]] = []
    with sessions() as s:
        engine = s.get_bind()

        def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:
            statements.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", keep)
        try:
            views.backend_page(s, name)
        finally:
            event.remove(engine, "before_cursor_execute", keep)
        prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        raw = s.connection().connection.driver_connection
        for statement, parameters in statements:
            cur = raw.cursor()
            cur.execute(prefix + statement, parameters)
            plan = [" ".join(str(c) for c in row) for row in cur.fetchall()]
            print("  " + " ".join(statement.split())[:110])
            for line in plan:
                print("      " + line)


def db_size(sessions, url: str) -> int:
    with sessions() as s:
        if s.get_bind().dialect.name == "postgresql":
            return int(s.scalar(text("SELECT pg_database_size(current_database())")))
        s.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return os.path.getsize(url)


def summary_urls(count: int, rng: random.Random) -> list[str]:
    """The summary as reviewers use it: plain, filtered by state, sorted; HTML and JSON."""
    variants = ["", "?state=failing", "?state=failing,flaky", "?sort=age", "?sort=vendor",
                "?state=stale&sort=backend"]
    return [rng.choice(variants) for _ in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50_000)
    parser.add_argument("--db", help="database URL (default: a temp SQLite file)")
    parser.add_argument("--postgres", action="store_true", help="start a throw-away PostgreSQL")
    parser.add_argument("--requests", type=int, default=60, help="requests per page kind")
    parser.add_argument("--ingest", type=int, default=600,
                        help="reports to ingest (a third each: in-process, HTTP, server process)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent publishers over HTTP")
    parser.add_argument("--explain", action="store_true",
                        help="print the query plans of the back-end page")
    parser.add_argument("--skip-ingest", action="store_true",
                        help="time the pages only (figures: benchmarks/results/"
                             "dashboard_scale_<sqlite|postgresql>.json)")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = args.db
        if args.postgres:
            from tests.dashboard.services import postgres_server
            url = stack.enter_context(postgres_server())
        if not url:
            url = str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "bench.sqlite")
        sessions = open_database(url)
        kind = sessions().get_bind().dialect.name
        print(f"dashboard benchmark on {kind}: {BACKENDS} back ends x {FEATURES} features x "
              f"{RELEASES} releases, {args.runs} runs x {CHECKS} checks", flush=True)
        seconds = generate(sessions, args.runs)
        print(f"generated {args.runs * CHECKS:,} check results in {seconds:.0f} s", flush=True)
        size = db_size(sessions, url)
        print(f"database size: {size / 2**20:.0f} MiB = {size / 2**20 / args.runs * 10_000:.0f} MiB "
              "per 10,000 runs", flush=True)
        client = TestClient(create_app(sessions, Settings(reports_per_minute=0)))
        rng = random.Random(3)
        with sessions() as s:
            names = [n for (n,) in s.execute(select(Backend.name))]
            releases = sorted({r for (r,) in s.execute(select(Run.release).distinct())})
        if args.explain:
            print("query plans of the back-end page:")
            explain(sessions, names[0])
        timed(client, ["/matrix", f"/backends/{names[0]}", "/summary"])  # template compilation
        # Every request below builds its page from the database: no page cache.
        uncached = TestClient(create_app(sessions, Settings(reports_per_minute=0,
                                                            page_cache_size=0)))
        summary_html = timed(uncached, [f"/summary{q}" for q in summary_urls(args.requests, rng)],
                             "summary")
        summary_json = timed(uncached, [f"/summary.json{q}" for q in summary_urls(args.requests, rng)],
                             "summary.json")
        matrix_uncached = timed(uncached, [f"/matrix?release={rng.choice(releases)}"
                                           for _ in range(args.requests // 2)], "matrix uncached")
        print(f"summary page (HTML, no page cache): p50 {statistics.median(summary_html):.0f} ms, "
              f"p95 {p95(summary_html):.0f} ms wall; CPU p95 {p95(CPU['summary']):.0f} ms over "
              f"{len(summary_html)} requests (target < 100 ms)")
        print(f"summary (JSON twin, no page cache): p50 {statistics.median(summary_json):.0f} ms, "
              f"p95 {p95(summary_json):.0f} ms wall")
        print(f"matrix page (HTML, no page cache): p50 {statistics.median(matrix_uncached):.0f} ms, "
              f"p95 {p95(matrix_uncached):.0f} ms wall")
        matrix = timed(client, [f"/matrix?release={rng.choice(releases)}" +
                                ("&protocol=NFS" if i % 3 == 0 else "") for i in range(args.requests)],
                       "matrix")
        backend = timed(client, [f"/backends/{rng.choice(names)}" for _ in range(args.requests)],
                        "backend")
        backend_json = timed(client, [f"/backends/{rng.choice(names)}.json" for _ in range(20)])
        ci = timed(client, ["/ci"] * 5)
        server_side = in_app_cpu(sessions, names, releases, rng, args.requests)
        print(f"load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"matrix page (HTML):   p50 {statistics.median(matrix):.0f} ms, "
              f"p95 {p95(matrix):.0f} ms wall; CPU p50 {statistics.median(CPU['matrix']):.0f} ms, "
              f"p95 {p95(CPU['matrix']):.0f} ms over {len(matrix)} requests (target < 100 ms)")
        print(f"back-end page (HTML): p50 {statistics.median(backend):.0f} ms, "
              f"p95 {p95(backend):.0f} ms wall; CPU p50 {statistics.median(CPU['backend']):.0f} ms, "
              f"p95 {p95(CPU['backend']):.0f} ms over {len(backend)} requests (target < 200 ms)")
        for page, samples in server_side.items():
            print(f"{page}, query + render only (no HTTP client): CPU p50 "
                  f"{statistics.median(samples):.0f} ms, p95 {p95(samples):.0f} ms")
        print(f"back-end page (JSON): p95 {p95(backend_json):.0f} ms; CI health: "
              f"median {statistics.median(ci):.0f} ms")
        figures = {
            "backends": BACKENDS, "releases": RELEASES, "runs": args.runs, "checks_per_run": CHECKS,
            "generate_s": round(seconds), "db_mib": round(size / 2**20),
            "db_mib_per_10k_runs": round(size / 2**20 / args.runs * 10_000),
            "load_average": round(os.getloadavg()[0], 1), "cores": os.cpu_count(),
            "summary_html_p50_ms": round(statistics.median(summary_html), 1),
            "summary_html_p95_ms": round(p95(summary_html), 1),
            "summary_json_p95_ms": round(p95(summary_json), 1),
            "summary_cpu_p95_ms": round(p95(CPU["summary"]), 1),
            "matrix_html_p95_ms": round(p95(matrix_uncached), 1),
            "matrix_p50_ms": round(statistics.median(matrix)), "matrix_p95_ms": round(p95(matrix)),
            "backend_p50_ms": round(statistics.median(backend)), "backend_p95_ms": round(p95(backend)),
            "requests_per_page": args.requests,
        }
        if args.skip_ingest:
            record(f"dashboard_scale_{kind}", figures)
            return 0
        with sessions() as s:
            token = create_token(s, "bench-ci", ["bench-*"])
        reports = [synthetic.report(f"bench-{i % 10}", f"{i:08x}", checks=CHECKS, seed=i % 10,
                                    features=synthetic.FEATURE_IDS[:20]) for i in range(args.ingest)]
        bodies = [json.dumps(r) for r in reports]
        third = len(bodies) // 3
        t, c = time.perf_counter(), time.process_time()
        for body in bodies[:third]:
            answer = client.post("/api/v1/reports", content=body,
                                 headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 201, answer.text
        rate = third / (time.perf_counter() - t)
        cpu_rate = third / (time.process_time() - c)
        figures["ingest_one_client_per_s"] = round(rate)
        print(f"ingest, in-process, one client: {rate:.0f} reports/s wall, {cpu_rate:.0f} reports "
              f"per CPU-second ({CHECKS} checks each; target >= 50)")
        rate = ingest_over_http(sessions, token, bodies[third:2 * third], args.clients)
        print(f"ingest, uvicorn in this process over loopback HTTP, {args.clients} clients: "
              f"{rate:.0f} reports/s wall", flush=True)
        figures["ingest_in_process_http_per_s"] = round(rate)
        rate, cpu_rate = ingest_to_server_process(url, token, bodies[2 * third:], args.clients)
        figures.update(ingest_server_per_s=round(rate), ingest_server_per_cpu_s=round(cpu_rate),
                       clients=args.clients)
        print(f"ingest, `certkit dashboard serve` in its own process, {args.clients} clients: "
              f"{rate:.0f} reports/s wall, {cpu_rate:.0f} reports per server CPU-second")
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(Run)) == args.runs + 3 * third
        record(f"dashboard_scale_{kind}", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
