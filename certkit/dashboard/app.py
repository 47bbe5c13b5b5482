"""The FastAPI application: ingest API (/api/v1/...) and pages, each with a .json twin."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from certkit.dashboard import ingest, summary, svg, views
from certkit.dashboard.pagecache import PageCache
from certkit.dashboard.ratelimit import RateLimiter, retry_after
from certkit.dashboard.site import Links, render
from certkit.dashboard.tokens import Caller, authenticate
from certkit.dashboard.validation import (MAX_DEPTH, audit_problems, ci_vote_problems,
                                          nesting_depth, report_problems)

log = logging.getLogger("certkit.dashboard")

SECURITY_HEADERS = {
    # Nothing from a report is ever executed: no script runs on any page.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass
class Settings:
    """Server knobs (the CLI sets them)."""

    max_report_bytes: int = 5 * 1024 * 1024
    reports_per_minute: float = 120.0
    burst: int = 60
    rules: views.Rules = field(default_factory=views.Rules)
    page_cache_size: int = 128
    """Rendered pages kept until the data changes (0: none, for benchmarks of the queries)."""


class Problem(Exception):
    """An RFC 9457 problem-details answer."""

    def __init__(self, status: int, title: str, detail: str = "",
                 errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None):
        super().__init__(title)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.headers = errors, headers or {}

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.errors is not None:
            body["errors"] = self.errors
        return JSONResponse(body, status_code=self.status, media_type="application/problem+json",
                            headers=self.headers)


def create_app(sessions: sessionmaker[Session], settings: Settings | None = None) -> FastAPI:
    """The dashboard application on a migrated database."""
    settings = settings or Settings()
    limiter = RateLimiter(settings.reports_per_minute, settings.burst)
    links = Links()
    app = FastAPI(title="certkit dashboard", docs_url=None, redoc_url=None,
                  description="Compatibility matrix of Manila share drivers: CI reports, static "
                              "audits and Gerrit CI votes. Every page has a .json twin.")
    app.mount("/static", StaticFiles(packages=[("certkit.dashboard", "static")]), name="static")

    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return exc.response()

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable) -> Response:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    # ----- ingest -------------------------------------------------------------------------

    def caller_for(request: Request) -> Caller:
        with sessions() as session:
            caller = authenticate(session, request.headers.get("authorization"))
        if caller is None:
            raise Problem(401, "Unauthorized", "send `Authorization: Bearer <token>` with a valid "
                          "token (certkit dashboard token create)",
                          headers={"WWW-Authenticate": 'Bearer realm="certkit"'})
        wait = limiter.acquire(caller.token_pk)
        if wait:
            raise Problem(429, "Too Many Requests", f"rate limit of {settings.reports_per_minute:g} "
                          "requests a minute per token", headers={"Retry-After": retry_after(wait)})
        return caller

    async def json_body(request: Request) -> Any:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_report_bytes:
            raise Problem(413, "Content Too Large", f"limit {settings.max_report_bytes} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_report_bytes:
                raise Problem(413, "Content Too Large", f"limit {settings.max_report_bytes} bytes")
            chunks.append(chunk)
        try:
            body = json.loads(b"".join(chunks))
        except (ValueError, UnicodeDecodeError) as exc:
            raise Problem(422, "Malformed JSON", str(exc).splitlines()[0][:200],
                          errors=[{"path": "", "message": f"malformed JSON: {exc}"[:300]}]) from None
        except RecursionError:  # the parser itself gave up: far deeper than MAX_DEPTH
            body = None
        if body is None or nesting_depth(body) > MAX_DEPTH:
            message = f"JSON nested deeper than {MAX_DEPTH} levels (no certkit body needs that)"
            raise Problem(422, "JSON nested too deeply", message,
                          errors=[{"path": "", "message": message}])
        return body

    def stored_answer(kind: str, stored: ingest.Stored, url: str) -> JSONResponse:
        return JSONResponse({"id": stored.pk, "url": url, "created": stored.created},
                            status_code=201 if stored.created else 200)

    def with_session(work: Callable[[Session], ingest.Stored]) -> ingest.Stored:
        """Run one ingest transaction; a concurrent duplicate is answered as a replay."""
        for attempt in range(2):
            try:
                with sessions() as session:
                    return work(session)
            except IntegrityError:
                if attempt:
                    raise
            except OperationalError as exc:
                log.error("database unavailable: %s", str(exc).splitlines()[0])
                raise Problem(503, "Service Unavailable", "database busy or unavailable; retry",
                              headers={"Retry-After": "5"}) from None
        raise AssertionError("unreachable")

    @app.post("/api/v1/reports", status_code=201, tags=["ingest"],
              summary="Publish a certkit JSON report (idempotent on profile + run_id)")
    async def post_report(request: Request) -> JSONResponse:
        caller = await run_in_threadpool(caller_for, request)  # a database look-up: off the loop
        report = await json_body(request)
        problems = report_problems(report)
        if problems:
            raise unprocessable("Report does not match report.schema.json", problems)
        name = report["profile"]["name"]
        if not caller.may_publish(name):
            raise Problem(403, "Forbidden", f"this token may not publish for profile {name!r}")
        extra = {k: request.query_params[k] for k in ("logs_url", "junit_url")
                 if k in request.query_params}
        bad = [k for k, v in extra.items() if not _is_http_url(v)]
        if bad:
            raise unprocessable("Link is not an http(s) URL", [{
                "path": f"?{k}", "message": "must be an http:// or https:// URL with a host "
                                            "(under 2000 characters)"} for k in bad])
        stored = await run_in_threadpool(
            with_session, lambda s: ingest.store_report(s, report, caller.account, extra))
        return stored_answer("run", stored, str(request.base_url) + links.run(name, report["run_id"]))

    @app.post("/api/v1/audits", status_code=201, tags=["ingest"],
              summary="Publish `certkit audit --in-tree --json` for one Manila release (admin)")
    async def post_audit(request: Request) -> JSONResponse:
        audit = await admin_body(request, "audits", audit_problems,
                                 "Audit does not match audit.schema.json")
        stored = await run_in_threadpool(with_session, lambda s: ingest.store_audit(s, audit))
        return stored_answer("audit", stored, str(request.base_url) + links.matrix())

    @app.post("/api/v1/ci-votes", status_code=201, tags=["ingest"],
              summary="Record a third-party CI vote seen on Gerrit (admin: the Gerrit listener)")
    async def post_vote(request: Request) -> JSONResponse:
        vote = await admin_body(request, "CI votes", ci_vote_problems, "CI vote is malformed")
        stored = await run_in_threadpool(with_session, lambda s: ingest.store_ci_vote(s, vote))
        return stored_answer("vote", stored, str(request.base_url) + links.ci())

    async def admin_body(request: Request, what: str,
                         check: Callable[[Any], list[dict[str, str]]], title: str) -> Any:
        """The validated body of a request only admin tokens may make."""
        if not (await run_in_threadpool(caller_for, request)).admin:
            raise Problem(403, "Forbidden", f"{what} need an admin token (token create --admin)")
        body = await json_body(request)
        problems = check(body)
        if problems:
            raise unprocessable(title, problems)
        return body

    # ----- pages ------------------------------------------------------------------------------

    cache = PageCache(settings.page_cache_size)

    def page(path: str, template: str, build: Callable[..., dict[str, Any] | None],
             summary: str, cached: bool = False) -> None:
        """Register `path` (HTML) and `path.json` (the same data) for one view."""

        def load(request: Request, html: bool) -> dict[str, Any] | str:
            query = {k: v for k, v in request.query_params.items() if k in QUERY_PARAMS}
            with sessions() as session:
                def make() -> dict[str, Any] | str | None:
                    try:
                        data = build(session, **request.path_params, **query)
                    except ValueError as exc:  # a query parameter out of its set
                        raise Problem(400, "Bad Request", str(exc)) from None
                    return render(template, data, links) if html and data is not None else data
                if cached:
                    key = (path, html, tuple(sorted(request.path_params.items())),
                           tuple(sorted(query.items())))
                    out = cache.get(key, session, make)
                else:
                    out = make()
            if out is None:
                what = f"no release {query['release']!r}" if "release" in query else "nothing"
                raise Problem(404, "Not Found", f"{what} at {request.url.path}")
            return out

        def as_json(request: Request) -> JSONResponse:
            return JSONResponse(load(request, html=False))

        def as_html(request: Request) -> HTMLResponse:
            try:
                text = load(request, html=True)
            except Problem as exc:
                if exc.status not in (400, 404):
                    raise
                return HTMLResponse(render("error.html", {"title": exc.title,
                                                          "detail": exc.detail}, links), exc.status)
            return HTMLResponse(text)

        # The handlers read request.path_params, so the OpenAPI parameters are declared here.
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                  for n in re.findall(r"{(\w+)}", path)]
        params += [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                   for n in PAGE_QUERY.get(path, ())]
        extra = {"parameters": params} if params else None
        app.add_api_route(path + ".json", as_json, methods=["GET"], summary=summary + " (JSON)",
                          tags=["pages"], openapi_extra=extra)
        app.add_api_route(path, as_html, methods=["GET"], summary=summary, tags=["pages"],
                          response_class=HTMLResponse, openapi_extra=extra)

    rules = settings.rules
    page("/summary", "summary.html",
         lambda s, release=None, state=None, sort=None, **_: (
             summary.summary(s, rules, state, sort, release)
             if not release or release in views.releases(s) else None),
         "Summary: every back end's state, newest received verdict, age, CI and last vote",
         cached=True)
    page("/matrix", "matrix.html",
         lambda s, release=None, vendor=None, protocol=None, sort=None, **_: views.matrix(
             s, release, vendor, protocol, sort, rules),
         "Back ends x features for one Manila release", cached=True)
    page("/ci", "ci.html", lambda s, **_: views.ci_health(s, rules), "CI health per CI account")
    page("/unmaintained", "unmaintained.html", lambda s, **_: views.unmaintained(s, rules),
         "Unmaintained back ends, with evidence")
    page("/runs/{profile}/{run_id}", "run.html",
         lambda s, profile, run_id, **_: views.run_page(s, profile, run_id), "One run")

    @app.get("/api/v1/runs/{profile}/{run_id}.json", tags=["pages"], summary="A stored run")
    def api_run(profile: str, run_id: str) -> JSONResponse:
        with sessions() as session:
            data = views.run_page(session, profile, run_id)
        if data is None:
            raise Problem(404, "Not Found", f"no run {run_id} of {profile}")
        return JSONResponse(data)

    @app.get("/backends/{name}/history.svg", tags=["pages"], summary="Run history plot")
    def history_svg(name: str) -> Response:
        with sessions() as session:
            data = views.backend_page(session, name, grid_runs=0, flaky_window=0)
        if data is None:
            raise Problem(404, "Not Found", f"no back end {name}")
        return Response(svg.history_plot(data["runs"]), media_type="image/svg+xml")

    @app.get("/backends/{name}/badge.svg", tags=["pages"], summary="Badge for a README")
    def badge_svg(name: str) -> Response:
        with sessions() as session:
            data = views.backend_page(session, name, history=1, grid_runs=0, flaky_window=0)
        if data is None:
            raise Problem(404, "Not Found", f"no back end {name}")
        return Response(badge_for(data), media_type="image/svg+xml",
                        headers={"Cache-Control": "max-age=300"})

    page("/backends/{name}/releases", "releases.html",
         lambda s, name, **_: views.backend_releases(s, name), "One back end across releases")
    page("/backends/{name}", "backend.html", lambda s, name, **_: views.backend_page(s, name),
         "One back end: history, checks x runs, flaky checks, audit findings", cached=True)

    @app.get("/unmaintained.csv", tags=["pages"], summary="Unmaintained back ends as CSV")
    def unmaintained_csv() -> Response:
        with sessions() as session:
            data = views.unmaintained(session, rules)
        return Response(unmaintained_to_csv(data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="unmaintained.csv"'})

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> RedirectResponse:
        """The summary is the front page (query parameters kept)."""
        query = request.url.query
        return RedirectResponse("/summary" + ("?" + query if query else ""))

    @app.get("/healthz", tags=["ops"], summary="Liveness: the database answers")
    def healthz() -> dict[str, str]:
        with sessions() as session:
            views.releases(session)
        return {"status": "ok"}

    return app


QUERY_PARAMS = ("release", "vendor", "protocol", "state", "sort")
PAGE_QUERY = {"/matrix": ("release", "vendor", "protocol", "sort"),
              "/summary": ("release", "state", "sort")}
"""Query parameters of the pages: the filters and orders work without JavaScript."""


def unprocessable(title: str, problems: list[dict[str, str]]) -> Problem:
    """422 naming the first failing path in `detail` and every one in `errors`."""
    return Problem(422, title, f"{problems[0]['path'] or '/'}: {problems[0]['message']}",
                   errors=problems)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) < 2000


def badge_for(data: dict[str, Any]) -> str:
    """The badge of a back end's latest run."""
    if not data["runs"]:
        return svg.badge("certkit", "no CI runs", "#6e7781")
    last = data["runs"][0]
    return svg.badge("certkit", f"{last['verdict']} {last['release']}",
                     svg.BADGE_COLOURS.get(last["verdict"], "#6e7781"))


CSV_FIELDS = ("backend", "vendor", "driver", "status", "has_profile", "last_pass", "last_report",
              "days_without_pass", "interface_errors", "evidence")


def unmaintained_to_csv(data: dict[str, Any]) -> str:
    """The unmaintained list for a distro; cells that a spreadsheet would run as a formula are quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for row in data["backends"]:
        values = ["; ".join(row["evidence"]) if f == "evidence" else row[f] for f in CSV_FIELDS]
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
                         for v in values])
    return out.getvalue()
