"""The summary: one row per back end with its state, newest received verdict, age, CI and vote.

Anchors: TestGrid's summary tab (a state per dashboard, worst first) and DriverLog's CI list
(which CI reports for which driver, and when it last voted).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, true, tuple_
from sqlalchemy.orm import Session

from certkit.dashboard.db import as_utc, utcnow
from certkit.dashboard.health import (DEFAULT_RULES, FLIP_WINDOW, STATE_ORDER, STATES, Rules,
                                      backend_state,
                                      flips)
from certkit.dashboard.models import OUTCOMES, Backend, CheckDef, CiVote, Result, Run
from certkit.dashboard.clock import age, iso

SORTS = ("state", "backend", "vendor", "age")
"""Summary orders (?sort=): state (worst first, the default), name, vendor, age (oldest first)."""

_RUN_COLUMNS = (Run.id, Run.run_id, Run.verdict, Run.release, Run.manila_version, Run.started_at,
                Run.received_at, Run.passed, Run.failed, Run.total)
_NEWEST_FIRST = (Run.received_at.desc(), Run.id.desc())
_RECENT = (select(*_RUN_COLUMNS).where(Run.backend_id == bindparam("backend_id"))
           .order_by(*_NEWEST_FIRST).limit(FLIP_WINDOW))
_RECENT_IN_RELEASE = _RECENT.where(Run.release == bindparam("release"))


def _recent_lateral(in_release: bool) -> Any:
    """PostgreSQL: every back end's newest runs in one statement (a LATERAL join running the same
    index range scan per back end), sparing a round trip per back end."""
    inner = select(Run.backend_id, *_RUN_COLUMNS).where(Run.backend_id == Backend.id)
    if in_release:
        inner = inner.where(Run.release == bindparam("release"))
    recent = inner.order_by(*_NEWEST_FIRST).limit(FLIP_WINDOW).correlate(Backend).lateral()
    return (select(recent).select_from(Backend).join(recent, true())
            .where(Backend.id.in_(bindparam("backend_ids", expanding=True)))
            .order_by(recent.c.backend_id, recent.c.received_at.desc(), recent.c.id.desc()))


_RECENT_LATERAL = {False: _recent_lateral(False), True: _recent_lateral(True)}
_FAILED_CODES = [OUTCOMES.index("failed"), OUTCOMES.index("error")]


def claims_text(claims: dict[str, Any]) -> str:
    """A profile's access and DHSS claims in one line: `NFS: ip, user; levels rw, ro; DHSS false`."""
    parts = []
    types = claims.get("access_types") or {}
    if types:
        parts.append("; ".join(f"{proto}: {', '.join(kinds)}" for proto, kinds in types.items()))
    if claims.get("access_levels"):
        parts.append("levels " + ", ".join(claims["access_levels"]))
    if claims.get("driver_handles_share_servers"):
        parts.append("DHSS " + " and ".join(str(m).lower()
                                            for m in claims["driver_handles_share_servers"]))
    return "; ".join(parts)


def latest_runs(session: Session, backend_ids: list[int], release: str | None
                ) -> dict[int, list[Any]]:
    """Each back end's newest received runs (FLIP_WINDOW of them), newest first: one index range
    scan of ix_runs_backend_received per back end, whatever the history's length (SQLite: a
    statement each, in-process and cheap; PostgreSQL: one LATERAL statement)."""
    db = session.connection()
    if db.dialect.name == "postgresql":
        out: dict[int, list[Any]] = {bid: [] for bid in backend_ids}
        if backend_ids:
            for row in db.execute(_RECENT_LATERAL[bool(release)],
                                  {"backend_ids": backend_ids, "release": release}):
                out[row.backend_id].append(row)
        return out
    statement = _RECENT_IN_RELEASE if release else _RECENT
    return {bid: db.execute(statement, {"backend_id": bid, "release": release}).all()
            for bid in backend_ids}


def failed_checks(session: Session, run_pks: list[int], limit: int = 3) -> dict[int, list[str]]:
    """The names of the checks each run failed (variant included), at most `limit` per run."""
    out: dict[int, list[str]] = defaultdict(list)
    if not run_pks:
        return out
    for run_pk, name, variant in session.execute(
            select(Result.run_pk, CheckDef.name, CheckDef.variant)
            .join(CheckDef, CheckDef.id == Result.check_pk)
            .where(Result.run_pk.in_(run_pks), Result.outcome.in_(_FAILED_CODES))
            .order_by(Result.run_pk, CheckDef.feature, CheckDef.name)):
        if len(out[run_pk]) < limit:
            out[run_pk].append(f"{name} [{variant}]" if variant else name)
    return out


def last_votes(session: Session, now: datetime) -> dict[str, dict[str, Any]]:
    """Each CI account's newest Gerrit vote."""
    newest = select(CiVote.account, func.max(CiVote.seen_at)).group_by(CiVote.account).subquery()
    out = {}
    for account, verified, change, patchset, seen in session.execute(
            select(CiVote.account, CiVote.verified, CiVote.change, CiVote.patchset, CiVote.seen_at)
            .where(tuple_(CiVote.account, CiVote.seen_at).in_(select(newest)))):
        out[account] = {"verified": verified, "change": f"{change},{patchset}",
                        "seen_at": iso(seen), "age": age(seen, now)}
    return out


def backend_health(session: Session, backends: list[Backend], rules: Rules, now: datetime,
                   release: str | None = None) -> dict[int, dict[str, Any]]:
    """State, newest received run and its failures per back end (the summary's and the matrix's
    verdict column)."""
    recent = latest_runs(session, [b.id for b in backends], release)
    failing_pks = [runs[0].id for runs in recent.values() if runs and runs[0].verdict != "certified"]
    failures = failed_checks(session, failing_pks)
    out = {}
    for b in backends:
        runs = recent[b.id]
        newest = runs[0] if runs else None
        received = as_utc(newest.received_at) if newest else None
        started = as_utc(newest.started_at) if newest else None
        state = backend_state([r.verdict for r in runs], started, now, rules)
        out[b.id] = {
            "state": state, "symbol": STATES[state][0],
            "verdict": newest.verdict if newest else None,
            "certified": bool(newest and newest.verdict == "certified"),
            "run_id": newest.run_id if newest else None,
            "release": newest.release if newest else None,
            "manila_version": newest.manila_version if newest else None,
            "started_at": iso(newest.started_at) if newest else None,
            "received_at": iso(received), "age": age(started, now) if newest else "",
            "checks": f"{newest.passed}/{newest.total}" if newest else "",
            "failed_checks": failures.get(newest.id, []) if newest else [],
            "failed_count": newest.failed if newest else 0,
            "flips": flips([r.verdict == "certified" for r in runs]),
            "window": len(runs),
            "known_since": iso(b.created_at), "known_for": age(b.created_at, now),
        }
    return out


def summary(session: Session, rules: Rules = DEFAULT_RULES, state: str | None = None,
            sort: str | None = None, release: str | None = None) -> dict[str, Any]:
    """One row per back end; `state` filters (comma-separated states), `sort` orders."""
    now = utcnow()
    wanted = [s for s in (state or "").split(",") if s]
    unknown = [s for s in wanted if s not in STATES]
    if unknown:
        raise ValueError(f"state: {unknown[0]!r} is not one of {', '.join(STATES)}")
    if sort and sort not in SORTS:
        raise ValueError(f"sort: {sort!r} is not one of {', '.join(SORTS)}")
    backends = list(session.scalars(select(Backend).order_by(Backend.name)))
    health = backend_health(session, backends, rules, now, release)
    votes = last_votes(session, now)
    rows = []
    for b in backends:
        h = health[b.id]
        rows.append({"backend": b.name, "vendor": b.vendor, "driver": b.driver,
                     "has_profile": b.has_profile, "ci_account": b.ci_account,
                     "claimed": b.claimed, "claims": b.claims or {},
                     "claims_text": claims_text(b.claims or {}),
                     "last_vote": votes.get(b.ci_account) if b.ci_account else None, **h})
    counts = {s: sum(1 for r in rows if r["state"] == s) for s in STATES}
    if wanted:
        rows = [r for r in rows if r["state"] in wanted]
    sort = sort or "state"
    if sort == "state":
        rows.sort(key=lambda r: (STATE_ORDER[r["state"]], r["backend"]))
    elif sort == "vendor":
        rows.sort(key=lambda r: (r["vendor"], r["backend"]))
    elif sort == "age":  # the oldest news first; never reported before everything
        rows.sort(key=lambda r: (r["started_at"] is not None, r["started_at"] or "", r["backend"]))
    return {"release": release or "", "state": ",".join(wanted), "sort": sort, "counts": counts,
            "total": len(backends), "states": [{"state": s, "symbol": v[0], "meaning": v[1]}
                                               for s, v in STATES.items()],
            "rules": {"stale_days": rules.missing_days, "flip_window": FLIP_WINDOW},
            "rows": rows, "generated_at": iso(now)}
