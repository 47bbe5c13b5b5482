"""What each page shows, as plain data: the HTML page and its .json twin render the same dict."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Callable, Hashable

from sqlalchemy import Text, case, func, select, type_coerce
from sqlalchemy.orm import Session

from certkit.catalogue import FEATURES
from certkit.dashboard.clock import age, iso
from certkit.dashboard.db import as_utc, utcnow
from certkit.dashboard.health import (DEFAULT_RULES, FLAKY_CHECK_WINDOW, STATE_ORDER, Rules,
                                      check_is_flaky, flips)
from certkit.dashboard.models import (OUTCOMES, Audit, AuditDriver, Backend, Cell, CheckDef,
                                      CiVote, Result, Run, Token)
from certkit.dashboard.releases import newest_first
from certkit.dashboard.summary import backend_health, claims_text

__all__ = ["Rules", "age", "iso"]  # re-exported: callers took them from here

CELL_STATES: dict[str, tuple[str, str, str]] = {
    # state: (symbol, label, meaning) - the symbol and label carry the meaning, colour only helps.
    "verified": ("\u2714", "verified", "a CI run passed every required check of the feature"),
    "failed": ("\u2718", "failed", "the latest CI run failed a check of the feature"),
    "unverified": ("?", "claimed, unverified", "the profile claims it; no CI run proved it"),
    "code-only": ("\u25cb", "code only", "the static audit finds it implemented; no CI evidence"),
    "drift": ("!", "code, interface drift", "implemented, but signatures differ from the ABC"),
    "not-implemented": ("\u2013", "not implemented", "neither claimed nor found in the code"),
    "unknown": ("\u00b7", "unknown", "no claim, and no audit (or the audit could not tell)"),
}


def releases(session: Session) -> list[str]:
    """Every release with a run or an audit, newest first."""
    # Cells hold every release a run claimed anything in: a few thousand rows, not every run.
    found = {r for (r,) in session.execute(select(Cell.release).distinct())}
    found |= {r for (r,) in session.execute(select(Audit.release).distinct())}
    return newest_first(found)


def feature_ids(session: Session, release: str | None = None) -> list[str]:
    """The catalogue's features in its order, then any others reports named."""
    ids = [f.id for f in FEATURES]
    query = select(Cell.feature).distinct()
    if release:
        query = query.where(Cell.release == release)
    extra = sorted({f for (f,) in session.execute(query)} - set(ids))
    return ids + extra


def _latest_audit(session: Session, release: str, driver: str | None = None
                  ) -> dict[str, AuditDriver]:
    """The newest audit of a release, by driver class (only `driver` when given)."""
    audit_id = session.scalar(select(Audit.id).where(Audit.release == release)
                              .order_by(Audit.generated_at.desc()).limit(1))
    if audit_id is None:
        return {}
    query = select(AuditDriver).where(AuditDriver.audit_id == audit_id)
    if driver is not None:
        query = query.where(AuditDriver.driver == driver)
    return {d.driver: d for d in session.scalars(query)}


def observed_cells(session: Session, where: Any, key: Callable[[Any], Hashable],
                   now: datetime) -> dict[Hashable, dict[str, Any]]:
    """Cells matching `where` as page-ready dicts by key(row), aged from the start of the run that
    speaks for them (the newest received; its start never after its receipt): plain Core rows (thousands of ORM
    objects cost too much), each time parsed and formatted once however many cells share it (all
    of a run's cells do). SQLite hands times over as text, so they are fetched as text there."""
    stamps: dict[Any, tuple[str | None, str]] = {}

    def stamp(value: datetime | str | None) -> tuple[str | None, str]:
        if value not in stamps:
            when = datetime.fromisoformat(value) if isinstance(value, str) else value
            stamps[value] = (iso(when), age(when, now))
        return stamps[value]

    as_text = session.get_bind().dialect.name == "sqlite"
    observed, received, verified = (
        (type_coerce(Cell.observed_at, Text), type_coerce(Cell.received_at, Text),
         type_coerce(Cell.verified_at, Text)) if as_text
        else (Cell.observed_at, Cell.received_at, Cell.verified_at))
    out = {}
    for row in session.connection().execute(
            select(Cell.backend_id, Cell.release, Cell.feature, Cell.status, Cell.detail,
                   observed.label("observed_at"), received.label("received_at"),
                   verified.label("verified_at")).where(where)):
        observed_iso, observed_age = stamp(row.observed_at)
        out[key(row)] = {"state": row.status, "detail": row.detail, "observed_at": observed_iso,
                         "received_at": stamp(row.received_at)[0], "age": observed_age,
                         "verified_at": stamp(row.verified_at)[0]}
    return out


def cell_for(cell: dict[str, Any] | None, claimed: frozenset[str] | set[str], feature: str,
             audit: AuditDriver | None, has_audit: bool) -> dict[str, Any]:
    """How one back end's feature in one release is known, most direct evidence first."""
    if cell is not None:
        return cell
    if feature in claimed:
        return {"state": "unverified", "detail": "claimed by the profile; no CI run for this release"}
    if audit is not None:
        status = audit.features.get(feature)
        if status == "implemented":
            return {"state": "code-only", "detail": "static audit"}
        if status == "drift":
            return {"state": "drift", "detail": "static audit: signature drift"}
        if status == "not-implemented":
            return {"state": "not-implemented", "detail": "static audit"}
        if status in ("unknown", "cannot-import"):
            return {"state": "unknown", "detail": f"static audit: {status}"}
    return {"state": "unknown" if not has_audit else "not-implemented", "detail": ""}


def matrix(session: Session, release: str | None = None, vendor: str | None = None,
           protocol: str | None = None, sort: str | None = None,
           rules: Rules = DEFAULT_RULES) -> dict[str, Any] | None:
    """Back ends x features for one release (default: the newest), with filters, each row led by
    the back end's state and newest received verdict in that release. None: unknown release."""
    all_releases = releases(session)
    if release and release not in all_releases:
        return None
    if sort and sort not in ("state", "backend", "vendor"):
        raise ValueError(f"sort: {sort!r} is not one of state, backend, vendor")
    release = release or (all_releases[0] if all_releases else "")
    now = utcnow()
    backends = list(session.scalars(select(Backend).order_by(Backend.vendor, Backend.name)))
    vendors = sorted({b.vendor for b in backends})
    protocols = sorted({p for b in backends for p in b.protocols})
    if vendor:
        backends = [b for b in backends if b.vendor == vendor]
    if protocol:
        backends = [b for b in backends if protocol in b.protocols]
    cells = observed_cells(session, Cell.release == release, lambda c: (c.backend_id, c.feature),
                           now)
    health = backend_health(session, backends, rules, now, release or None)
    audit = _latest_audit(session, release)
    features = feature_ids(session, release)
    rows = []
    for b in backends:
        claimed, found, bid = set(b.claimed), audit.get(b.driver), b.id
        row_cells = {f: cell_for(cells.get((bid, f)), claimed, f, found, bool(audit))
                     for f in features}
        rows.append({"backend": b.name, "vendor": b.vendor, "driver": b.driver,
                     "protocols": b.protocols, "claims": b.claims or {},
                     "claims_text": claims_text(b.claims or {}), "health": health[bid],
                     "cells": row_cells})
    if sort == "state":
        rows.sort(key=lambda r: (STATE_ORDER[r["health"]["state"]], r["backend"]))
    elif sort == "backend":
        rows.sort(key=lambda r: r["backend"])
    titles = {f.id: f.title for f in FEATURES}
    return {"release": release, "releases": all_releases, "vendor": vendor or "",
            "protocol": protocol or "", "sort": sort or "vendor", "vendors": vendors,
            "protocols": protocols,
            "features": [{"id": f, "title": titles.get(f, f)} for f in features],
            "legend": [{"state": s, "symbol": v[0], "label": v[1], "meaning": v[2]}
                       for s, v in CELL_STATES.items()],
            "rows": rows, "generated_at": iso(now)}


def _run_summary(run: Run) -> dict[str, Any]:
    return {"run_id": run.run_id, "verdict": run.verdict, "started_at": iso(run.started_at),
            "received_at": iso(run.received_at),
            "duration": round(run.duration, 3), "release": run.release,
            "manila_version": run.manila_version, "manila_change": run.manila_change,
            "passed": run.passed, "failed": run.failed, "total": run.total, "account": run.account}


RUN_COLUMNS = (Run.id, Run.run_id, Run.verdict, Run.started_at, Run.received_at, Run.duration,
               Run.release,
               Run.manila_version, Run.manila_change, Run.passed, Run.failed, Run.total, Run.account)
"""What a run summary needs: plain rows, not ORM objects (hundreds per page)."""


def backend_page(session: Session, name: str, history: int = 200, grid_runs: int = 20,
                 flaky_window: int = FLAKY_CHECK_WINDOW, rules: Rules = DEFAULT_RULES
                 ) -> dict[str, Any] | None:
    """A back end: profile, claims, state, history, checks x recent runs, flaky checks, audit.
    Runs come newest received first. Costs do not grow with history: the newest runs by
    ix_runs_backend_received, their results
    by the results primary key (run_pk, check_pk), audits by ix_audit_drivers_driver."""
    b = session.scalar(select(Backend).where(Backend.name == name))
    if b is None:
        return None
    db = session.connection()  # Core rows: no ORM bookkeeping for thousands of rows
    recent = db.execute(select(*RUN_COLUMNS).where(Run.backend_id == b.id)
                             .order_by(Run.received_at.desc(), Run.id.desc())
                             .limit(max(history, grid_runs, flaky_window))).all()
    grid_cols = recent[:grid_runs]
    window = recent[:flaky_window]
    outcomes: dict[int, dict[int, int]] = defaultdict(dict)
    if window:
        for run_pk, check_pk, outcome in db.execute(
                select(Result.run_pk, Result.check_pk, Result.outcome)
                .where(Result.run_pk.in_([r.id for r in window]))):
            outcomes[check_pk][run_pk] = outcome
    defs = {d.id: d for d in db.execute(
        select(CheckDef.id, CheckDef.check_id, CheckDef.variant, CheckDef.name, CheckDef.suite,
               CheckDef.feature).where(CheckDef.id.in_(list(outcomes))))} if outcomes else {}
    grid = []
    for check_pk, by_run in sorted(outcomes.items(),
                                   key=lambda kv: (defs[kv[0]].feature, defs[kv[0]].name)):
        d = defs[check_pk]
        grid.append({"id": d.check_id, "variant": d.variant, "name": d.name, "feature": d.feature,
                     "suite": d.suite,
                     "outcomes": [OUTCOMES[by_run[r.id]] if r.id in by_run else None
                                  for r in grid_cols]})
    return {"backend": {"name": b.name, "vendor": b.vendor, "driver": b.driver,
                        "protocols": b.protocols, "maintainers": b.maintainers,
                        "ci_account": b.ci_account, "claimed": b.claimed,
                        "claims": b.claims or {}, "claims_text": claims_text(b.claims or {}),
                        "has_profile": b.has_profile},
            "health": backend_health(session, [b], rules, utcnow())[b.id],
            "runs": [_run_summary(r) for r in recent[:history]],
            "grid": {"runs": [_run_summary(r) for r in grid_cols], "checks": grid},
            "flaky": _flaky(window, outcomes, defs), "audit": _audit_findings(session, b.driver)}


def _audit_findings(session: Session, driver: str) -> list[dict[str, Any]]:
    """The driver's findings in the newest audit of each release, newest release first."""
    latest: dict[int, str] = {}  # audit id -> release, the newest audit of each release only
    for audit_id, release in session.execute(select(Audit.id, Audit.release)
                                             .order_by(Audit.generated_at.desc())):
        if release not in latest.values():
            latest[audit_id] = release
    if not latest:
        return []
    found = {latest[audit_id]: findings for audit_id, findings in session.execute(
        select(AuditDriver.audit_id, AuditDriver.findings)
        .where(AuditDriver.driver == driver, AuditDriver.audit_id.in_(list(latest))))}
    return [{"release": r, "findings": found[r]} for r in newest_first(found)]


_PASSED, _SKIPPED = OUTCOMES.index("passed"), OUTCOMES.index("skipped")


def _flaky(window: list[Any], outcomes: dict[int, dict[int, int]],
           defs: dict[int, Any]) -> list[dict[str, Any]]:
    """Checks (each variant on its own) whose outcome flipped between passing and failing at
    least FLAKY_FLIPS times in the window, in the order runs were received. One regression is one
    flip: it shows in the grid as a failure, not here."""
    chronological = [r.id for r in reversed(window)]
    flaky = []
    for check_pk, by_run in outcomes.items():
        passed = [by_run[r] == _PASSED for r in chronological
                  if by_run.get(r, _SKIPPED) != _SKIPPED]
        if check_is_flaky(passed):
            d = defs[check_pk]
            flaky.append({"id": d.check_id, "variant": d.variant, "name": d.name,
                          "feature": d.feature, "flips": flips(passed), "runs": len(passed),
                          "failed": passed.count(False)})
    return sorted(flaky, key=lambda f: (-f["flips"], f["name"], f["variant"]))


def run_page(session: Session, profile: str, run_id: str) -> dict[str, Any] | None:
    """One run: its report header and every check with outcome, duration and message."""
    row = session.execute(select(Run, Backend.name).join(Backend, Backend.id == Run.backend_id)
                          .where(Backend.name == profile, Run.run_id == run_id)).first()
    if row is None:
        return None
    run = row[0]
    checks = [{"id": d.check_id, "variant": d.variant, "name": d.name, "suite": d.suite,
               "feature": d.feature, "level": d.level, "outcome": OUTCOMES[r.outcome],
               "duration": r.duration, "message": r.message or ""}
              for r, d in session.execute(select(Result, CheckDef)
                                          .join(CheckDef, CheckDef.id == Result.check_pk)
                                          .where(Result.run_pk == run.id)
                                          .order_by(CheckDef.feature, CheckDef.name))]
    checks.sort(key=lambda c: c["outcome"] not in ("failed", "error"))  # failures first, stable
    return {"profile": profile, **_run_summary(run), "received_at": iso(run.received_at),
            "links": run.header.get("links", {}), "report": {**run.header, "checks": checks}}


def _streak(verdicts: list[bool]) -> int:
    best = cur = 0
    for ok in verdicts:
        cur = 0 if ok else cur + 1
        best = max(best, cur)
    return best


def never_reported(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every back end with no run received, with how long the dashboard has known it (oldest
    first): pages list them rather than count them as fine."""
    reported = select(Run.backend_id).distinct()
    return [{"backend": b.name, "vendor": b.vendor, "has_profile": b.has_profile,
             "ci_account": b.ci_account, "known_since": iso(b.created_at),
             "known_for": age(b.created_at, now),
             "known_days": max(0, (now - as_utc(b.created_at)).days)}
            for b in session.scalars(select(Backend).where(Backend.id.not_in(reported))
                                     .order_by(Backend.created_at, Backend.name))]


def ci_health(session: Session, rules: Rules = DEFAULT_RULES) -> dict[str, Any]:
    """Per CI account: last report, 7/30-day counts and pass rates, failing streak, missing."""
    now = utcnow()
    since30, since7 = now - timedelta(days=30), now - timedelta(days=7)
    accounts: dict[str, dict[str, Any]] = {}

    def entry(name: str) -> dict[str, Any]:
        return accounts.setdefault(name, {"account": name, "uses_certkit": False, "last_report": None,
                                          "last_vote": None, "reports_7d": 0, "pass_rate_7d": None,
                                          "reports_30d": 0, "pass_rate_30d": None,
                                          "votes_30d": 0, "vote_pass_rate_30d": None,
                                          "longest_failing_streak": 0, "expected_missing": []})

    for (account,) in session.execute(select(Token.account).where(Token.revoked_at.is_(None),
                                                                  Token.admin.is_(False))):
        entry(account)["uses_certkit"] = True
    ok = case((Run.verdict == "certified", 1), else_=0)
    for account, last, n7, ok7, n30, ok30 in session.execute(
            select(Run.account, func.max(Run.started_at),
                   func.sum(case((Run.started_at >= since7, 1), else_=0)),
                   func.sum(case((Run.started_at >= since7, ok), else_=0)),
                   func.sum(case((Run.started_at >= since30, 1), else_=0)),
                   func.sum(case((Run.started_at >= since30, ok), else_=0)))
            .group_by(Run.account)):
        e = entry(account)
        e.update(uses_certkit=True, last_report=iso(last), reports_7d=int(n7 or 0),
                 reports_30d=int(n30 or 0),
                 pass_rate_7d=round(ok7 / n7, 3) if n7 else None,
                 pass_rate_30d=round(ok30 / n30, 3) if n30 else None)
    for account, last, n30, ok30 in session.execute(
            select(CiVote.account, func.max(CiVote.seen_at),
                   func.sum(case((CiVote.seen_at >= since30, 1), else_=0)),
                   func.sum(case((CiVote.seen_at >= since30,
                                  case((CiVote.verified > 0, 1), else_=0)), else_=0)))
            .group_by(CiVote.account)):
        e = entry(account)
        e.update(last_vote=iso(last), votes_30d=int(n30 or 0),
                 vote_pass_rate_30d=round(ok30 / n30, 3) if n30 else None)
    for account, e in accounts.items():
        verdicts = [v == "certified" for (v,) in session.execute(
            select(Run.verdict).where(Run.account == account, Run.started_at >= since30)
            .order_by(Run.started_at))]
        votes = [v > 0 for (v,) in session.execute(
            select(CiVote.verified).where(CiVote.account == account, CiVote.seen_at >= since30)
            .order_by(CiVote.seen_at))]
        e["longest_failing_streak"] = max(_streak(verdicts), _streak(votes))
    last_by_backend = dict(session.execute(select(Run.backend_id, func.max(Run.started_at))
                                           .group_by(Run.backend_id)).all())
    missing = []
    for b in session.scalars(select(Backend).where(Backend.has_profile.is_(True))
                             .order_by(Backend.name)):
        last = last_by_backend.get(b.id)
        # Never reported: the clock starts at registration, so a new profile gets its N days.
        if as_utc(last or b.created_at) < now - timedelta(days=rules.missing_days):
            item = {"backend": b.name, "ci_account": b.ci_account, "last_report": iso(last)}
            missing.append(item)
            if b.ci_account:
                entry(b.ci_account)["expected_missing"].append(b.name)
    return {"accounts": sorted(accounts.values(), key=lambda a: a["account"]),
            "expected_missing": missing, "missing_days": rules.missing_days,
            "never_reported": never_reported(session, now), "generated_at": iso(now)}


def unmaintained(session: Session, rules: Rules = DEFAULT_RULES) -> dict[str, Any]:
    """Back ends by the policy: no passing report for warn_days (warning) / deprecate_days."""
    now = utcnow()
    last_pass = dict(session.execute(select(Run.backend_id, func.max(Run.started_at))
                                     .where(Run.verdict == "certified").group_by(Run.backend_id)).all())
    last_any = dict(session.execute(select(Run.backend_id, func.max(Run.started_at))
                                    .group_by(Run.backend_id)).all())
    newest = releases(session)
    audit = _latest_audit(session, newest[0]) if newest else {}
    rows = []
    for b in session.scalars(select(Backend).order_by(Backend.name)):
        passed, last = last_pass.get(b.id), last_any.get(b.id)
        drift = [f for f in (audit.get(b.driver).findings if b.driver in audit else [])
                 if f["severity"] == "error"]
        evidence = []
        if passed is None:
            # The clock starts when the dashboard first knew the back end (a grace period).
            days = (now - as_utc(b.created_at)).days
            evidence.append(("no passing certkit report" if last else "no CI report") +
                            f" in the {days} days since it was registered")
        else:
            days = (now - as_utc(passed)).days
            evidence.append(f"last passing report {days} days ago ({iso(passed)})")
        if last is not None and last != passed:
            evidence.append(f"last report {iso(last)}")
        if drift:
            evidence.append(f"{len(drift)} interface error(s) in the audit of {newest[0]}")
        no_ci = last is None and not b.has_profile
        if no_ci:
            evidence.append("no certkit profile and no CI: known from the static audit only")
        if days < rules.warn_days and not drift and not no_ci:
            continue
        status = ("deprecation-candidate" if days >= rules.deprecate_days
                  else "no-ci" if no_ci else "warning")
        rows.append({"backend": b.name, "vendor": b.vendor, "driver": b.driver, "status": status,
                     "has_profile": b.has_profile, "last_pass": iso(passed), "last_report": iso(last),
                     "days_since_pass": days if passed is not None else None,
                     "days_without_pass": days, "interface_errors": len(drift),
                     "evidence": evidence})
    order = {"deprecation-candidate": 0, "warning": 1, "no-ci": 2}
    rows.sort(key=lambda r: (order[r["status"]], r["backend"]))
    return {"rules": {"warn_days": rules.warn_days, "deprecate_days": rules.deprecate_days},
            "backends": rows, "never_reported": never_reported(session, now),
            "generated_at": iso(now)}


def backend_releases(session: Session, name: str) -> dict[str, Any] | None:
    """One back end's features across Manila releases."""
    b = session.scalar(select(Backend).where(Backend.name == name))
    if b is None:
        return None
    now = utcnow()
    rels = releases(session)
    cells = observed_cells(session, Cell.backend_id == b.id, lambda c: (c.release, c.feature), now)
    audits = {r: _latest_audit(session, r) for r in rels}
    features = feature_ids(session)
    claimed = set(b.claimed)
    grid = [{"feature": f, "cells": {r: cell_for(cells.get((r, f)), claimed, f, audits[r].get(b.driver),
                                                 bool(audits[r])) for r in rels}}
            for f in features]
    return {"backend": b.name, "releases": rels, "features": grid,
            "legend": [{"state": s, "symbol": v[0], "label": v[1], "meaning": v[2]}
                       for s, v in CELL_STATES.items()]}


def backend_names(session: Session) -> list[str]:
    """Every back end's name (for the static export)."""
    return [n for (n,) in session.execute(select(Backend.name).order_by(Backend.name))]


def run_keys(session: Session, per_backend: int = 20) -> list[tuple[str, str]]:
    """(profile, run_id) of the recent runs of every back end (for the static export)."""
    keys = []
    for b in session.scalars(select(Backend)):
        keys += [(b.name, r) for (r,) in session.execute(
            select(Run.run_id).where(Run.backend_id == b.id)
            .order_by(Run.started_at.desc()).limit(per_backend))]
    return keys
