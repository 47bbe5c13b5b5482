"""Storing what CIs send: certkit reports, static audits, Gerrit CI votes. Callers validate first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, and_, bindparam, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from certkit.audit.scaffold import VENDORS, profile_name
from certkit.dashboard.db import as_utc, utcnow
from certkit.dashboard.models import (OUTCOMES, Audit, AuditDriver, Backend, Cell, CheckDef,
                                      CiVote, Result, Run)
from certkit.dashboard.releases import release_of

OUTCOME_CODE = {name: i for i, name in enumerate(OUTCOMES)}


@dataclass(frozen=True)
class Stored:
    """The outcome of an ingest: the row's id and whether it was new."""

    pk: int
    created: bool


def parse_time(text: str) -> datetime:
    """An RFC 3339 time (schema-checked) as aware UTC."""
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _insert(session: Session):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)


# Statements built once (compiled once per dialect by SQLAlchemy's cache): ingest runs them for
# every report, and building them costs more than running them.
_BACKEND_AND_RUN = (select(Backend.id, Run.id)  # the back end, and the run if already stored
                    .outerjoin(Run, and_(Run.backend_id == Backend.id,
                                         Run.run_id == bindparam("run_id")))
                    .where(Backend.name == bindparam("name")))
_RUN_INSERT = Run.__table__.insert()
_RESULT_INSERT = Result.__table__.insert()
_RESULT_UNNEST = text(  # PostgreSQL: every row of a report in one statement, arrays as parameters
    "INSERT INTO results (run_pk, check_pk, outcome, duration, message) "
    "SELECT :run_pk, * FROM unnest(CAST(:check_pks AS integer[]), CAST(:outcomes AS smallint[]), "
    "CAST(:durations AS double precision[]), CAST(:messages AS text[]))")
_CURRENT_CELLS = select(Cell.feature, Cell.verified_at).where(
    Cell.backend_id == bindparam("backend_id"), Cell.release == bindparam("release"))


def _cell_upsert(insert: Any) -> Any:
    """INSERT ... ON CONFLICT (the cell) DO UPDATE with the newer run's status."""
    upsert = insert(Cell)
    return upsert.on_conflict_do_update(
        index_elements=[Cell.backend_id, Cell.release, Cell.feature],
        set_={c: getattr(upsert.excluded, c)
              for c in ("status", "run_pk", "observed_at", "received_at", "verified_at",
                        "detail")})


_CELL_UPSERTS = {"postgresql": _cell_upsert(postgresql.insert), "sqlite": _cell_upsert(sqlite.insert)}


def backend_for_report(session: Session, report: Mapping[str, Any]) -> tuple[int, int | None]:
    """The report's back end's primary key, created on first sight (an audit-only row of the same
    driver goes), and the stored run's primary key if this run was stored before."""
    name = report["profile"]["name"]
    found = session.execute(_BACKEND_AND_RUN, {"name": name, "run_id": report["run_id"]}).first()
    if found is not None:
        return found[0], found[1]
    _drop_audit_only(session, report["driver"])
    backend = Backend(name=name, vendor=report["profile"]["vendor"], driver=report["driver"],
                      protocols=[], maintainers=[], ci_account="", claimed=[], claims={},
                      has_profile=False, created_at=utcnow())
    session.add(backend)
    session.flush()
    return backend.id, None


def _drop_audit_only(session: Session, driver: str) -> None:
    """Remove back ends the audit invented for `driver` now that a real profile covers it."""
    for row in session.scalars(select(Backend).where(Backend.driver == driver,
                                                     Backend.has_profile.is_(False))):
        if session.scalar(select(Run.id).where(Run.backend_id == row.id).limit(1)) is None:
            session.execute(delete(Cell).where(Cell.backend_id == row.id))
            session.delete(row)
    session.flush()


def store_report(session: Session, report: Mapping[str, Any], account: str,
                 links: Mapping[str, str] | None = None) -> Stored:
    """Store a validated report once per (profile, run_id); a replay returns the stored run.
    Core statements, not ORM objects: about six round trips for a report of known checks."""
    backend_pk, existing = backend_for_report(session, report)
    if existing is not None:
        session.rollback()
        return Stored(existing, False)
    header = {k: v for k, v in report.items() if k != "checks"}
    if links:
        header["links"] = dict(links)
    source = report.get("manila_source") or {}
    change = f"{source.get('change')},{source.get('patchset')}" if source.get("change") else ""
    summary = report["summary"]
    release, started = release_of(report["manila_version"]), parse_time(report["started_at"])
    received = utcnow()
    run_pk = session.execute(_RUN_INSERT, dict(
        backend_id=backend_pk, run_id=report["run_id"], account=account, release=release,
        manila_version=report["manila_version"], manila_change=change or source.get("commit", ""),
        driver_version="", verdict=report["verdict"], started_at=started, received_at=received,
        duration=float(report["duration"]), passed=summary["passed"],
        failed=summary["failed"] + summary["error"], total=summary["total"], header=header)
    ).inserted_primary_key[0]
    check_pks, new_defs = check_def_pks(session, report["checks"])
    rows = [{"run_pk": run_pk, "check_pk": check_pks[(c["id"], c.get("variant", ""))],
             "outcome": OUTCOME_CODE[c["outcome"]], "duration": float(c["duration"]),
             "message": c["message"] or None}
            for c in report["checks"]]
    if rows:
        # A report may repeat a check (same id and variant): keep the last, as pytest would.
        insert_results(session, list({r["check_pk"]: r for r in rows}.values()))
    update_cells(session, backend_pk, run_pk, release, started, received, report)
    session.commit()
    _check_def_cache(session).update(new_defs)  # only once committed: a rollback would undo them
    return Stored(run_pk, True)


def insert_results(session: Session, rows: list[dict[str, Any]]) -> None:
    """One run's results: an executemany on SQLite (in-process, cheap); on PostgreSQL one INSERT
    from unnest() arrays, since an executemany is one statement per row for the server."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(_RESULT_INSERT, rows)
        return
    session.execute(_RESULT_UNNEST, {
        "run_pk": rows[0]["run_pk"], "check_pks": [r["check_pk"] for r in rows],
        "outcomes": [r["outcome"] for r in rows], "durations": [r["duration"] for r in rows],
        "messages": [r["message"] for r in rows]})


_CHECK_DEFS: WeakKeyDictionary[Engine, dict[tuple[str, str], int]] = WeakKeyDictionary()
"""Per database: (check id, variant) -> check_defs primary key. Rows are never changed or deleted,
so a committed key stays right for every process; it saves a look-up of every check per report."""


def _check_def_cache(session: Session) -> dict[tuple[str, str], int]:
    return _CHECK_DEFS.setdefault(session.get_bind(), {})


def check_def_pks(session: Session, checks: list[Mapping[str, Any]]
                  ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """Primary keys of the report's checks, defining the ones not seen before; and the keys not
    in the committed cache (for the caller to add once its transaction commits)."""
    wanted = {(c["id"], c.get("variant", "")): c for c in checks}
    cache = _check_def_cache(session)
    if all(k in cache for k in wanted):
        return {k: cache[k] for k in wanted}, {}
    known = _known_check_defs(session, wanted)
    missing = [k for k in wanted if k not in known]
    if missing:  # new checks are rare: most reports repeat known ones
        values = [{"check_id": k[0], "variant": k[1], "name": wanted[k]["name"],
                   "suite": wanted[k]["suite"], "feature": wanted[k]["feature"],
                   "level": wanted[k]["level"]} for k in missing]
        session.execute(_insert(session)(CheckDef).on_conflict_do_nothing(), values)
        known = _known_check_defs(session, wanted)
    return known, known


def _known_check_defs(session: Session, wanted: Mapping[tuple[str, str], Any]
                      ) -> dict[tuple[str, str], int]:
    ids = {k[0] for k in wanted}
    found = session.execute(select(CheckDef.id, CheckDef.check_id, CheckDef.variant)
                            .where(CheckDef.check_id.in_(ids)))
    return {(cid, variant): pk for pk, cid, variant in found if (cid, variant) in wanted}


def update_cells(session: Session, backend_id: int, run_pk: int, release: str, started: datetime,
                 received: datetime, report: Mapping[str, Any]) -> None:
    """Matrix cells of the run's release follow the newest *received* run, whatever time its
    report claims (a report dated ahead cannot pin a cell). Core statements, not ORM objects: one
    DELETE and one upsert per report."""
    failing = {}
    for check in report["checks"]:
        if check["outcome"] in ("failed", "error") and check["feature"] not in failing:
            failing[check["feature"]] = check["name"]
    verified_before = dict(session.execute(_CURRENT_CELLS, {"backend_id": backend_id,
                                                            "release": release}).all())
    gone, rows = [], []
    for feature, info in report["features"].items():
        if info["status"] == "not-claimed":
            gone += [feature] if feature in verified_before else []
            continue
        if info["status"] == "unverified" and report.get("scope"):
            continue  # a suite-scoped run (e.g. scale only) says nothing of what it did not run
        detail = failing.get(feature, "") if info["status"] == "failed" else ""
        verified_at = started if info["status"] == "verified" else verified_before.get(feature)
        rows.append({"backend_id": backend_id, "release": release, "feature": feature,
                     "status": info["status"], "run_pk": run_pk, "observed_at": started,
                     "received_at": received, "verified_at": verified_at,
                     "detail": detail or info.get("reason", "")})
    if gone:
        session.execute(delete(Cell).where(Cell.backend_id == backend_id,
                                           Cell.release == release, Cell.feature.in_(gone)))
    if rows:
        session.execute(_CELL_UPSERTS[session.get_bind().dialect.name], rows)


def store_audit(session: Session, audit: Mapping[str, Any]) -> Stored:
    """Store an audit; drivers no back end covers get an audit-only back end row."""
    generated = parse_time(audit["generated_at"])
    release = release_of(audit["manila_version"])
    same = session.scalar(select(Audit.id).where(Audit.release == release,
                                                 Audit.manila_version == audit["manila_version"],
                                                 Audit.generated_at == generated))
    if same is not None:
        return Stored(same, False)
    row = Audit(release=release, manila_version=audit["manila_version"], generated_at=generated,
                received_at=utcnow())
    session.add(row)
    session.flush()
    known = {d for (d,) in session.execute(select(Backend.driver))}
    names = {n for (n,) in session.execute(select(Backend.name))}
    for class_path, features, findings in audit_rows_by_class(audit["drivers"]):
        session.add(AuditDriver(audit_id=row.id, driver=class_path, features=features,
                                findings=findings))
        if class_path not in known:
            name = _audit_backend_name(class_path, names)
            names.add(name)
            known.add(class_path)
            session.add(Backend(name=name, vendor=_vendor_of(class_path), driver=class_path,
                                protocols=[], maintainers=[], ci_account="", claimed=[],
                                claims={}, has_profile=False, created_at=utcnow()))
    session.commit()
    return Stored(row.id, True)


# When rows of one driver class disagree (format 2: one row per configuration of a delegating
# driver), the class implements a feature if any configuration does.
_FEATURE_RANK = {"implemented": 4, "drift": 3, "unknown": 2, "not-implemented": 1, "cannot-import": 0}


def audit_rows_by_class(rows: list[Mapping[str, Any]]) -> list[tuple[str, dict, list]]:
    """(driver class, features, findings) per class, from audit format 1 (one row per class) or
    format 2 (`driver` is the class; `class` names the row, e.g. `X [option = choice]`)."""
    merged: dict[str, tuple[dict, list]] = {}
    for row in rows:
        class_path = row.get("driver") or row["class"]
        label = row["class"][len(class_path):].strip() if row["class"] != class_path else ""
        features, findings = merged.setdefault(class_path, ({}, []))
        for feature, status in row["features"].items():
            if _FEATURE_RANK.get(status, 0) >= _FEATURE_RANK.get(features.get(feature, ""), -1):
                features[feature] = status
        prefix = f"{label}: " if label else ""
        findings += [{"kind": f["kind"], "severity": f["severity"], "method": f["method"],
                      "detail": prefix + f["detail"]} for f in row["signature_findings"]]
        findings += [{"kind": "claim", "severity": "warning", "method": "", "detail": prefix + text}
                     for text in row["claim_findings"]]
        if not row["imported"]:
            findings.append({"kind": "cannot-import", "severity": "error", "method": "",
                             "detail": prefix + row["import_error"]})
    return [(path, features, findings) for path, (features, findings) in merged.items()]


def _audit_backend_name(class_path: str, taken: set[str]) -> str:
    module, _, cls_name = class_path.rpartition(".")
    name = profile_name(type(cls_name or "Driver", (), {"__module__": module}))
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name[:60]}-{n}"
        n += 1
    return candidate


def _vendor_of(class_path: str) -> str:
    parts = class_path.split(".")
    package = parts[3] if len(parts) > 4 and parts[:3] == ["manila", "share", "drivers"] else ""
    return VENDORS.get(package, package or "unknown")


def profile_claims(raw: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The features a profile claims (listed ones plus those its access and DHSS keys imply, as
    certkit.profile.Profile.claimed counts them) and those keys as written."""
    dhss = raw.get("driver_handles_share_servers", False)
    modes = list(dhss) if isinstance(dhss, list) else [dhss]
    types = {proto: list(kinds) for proto, kinds in (raw.get("access_types") or {}).items()}
    levels = list(raw.get("access_levels") or ["rw"])
    derived = {f"access_{kind}" for kinds in types.values() for kind in kinds}
    derived |= {"access_ro"} if "ro" in levels else set()
    derived |= {"share_servers"} if True in modes else set()
    listed = list(raw.get("features", []))
    return listed + sorted(derived - set(listed)), {
        "access_types": types, "access_levels": levels, "driver_handles_share_servers": modes}


def store_profile(session: Session, raw: Mapping[str, Any]) -> Backend:
    """Register (or update) a back end from a profile: maintainers, CI account, claims."""
    backend = session.scalar(select(Backend).where(Backend.name == raw["name"]))
    if backend is None:
        _drop_audit_only(session, raw["driver"])
        backend = Backend(name=raw["name"], created_at=utcnow())
        session.add(backend)
    backend.vendor, backend.driver = raw["vendor"], raw["driver"]
    backend.protocols = list(raw.get("protocols", []))
    backend.maintainers = [dict(m) for m in raw.get("maintainers", [])]
    backend.ci_account = (raw.get("ci") or {}).get("account", "")
    backend.claimed, backend.claims = profile_claims(raw)
    backend.has_profile = True
    session.commit()
    return backend


def store_ci_vote(session: Session, vote: Mapping[str, Any]) -> Stored:
    """Store a Gerrit CI vote once (account, change, patchset, seen_at)."""
    seen = parse_time(vote["seen_at"])
    existing = session.scalar(select(CiVote.id).where(
        CiVote.account == vote["account"], CiVote.change == vote["change"],
        CiVote.patchset == vote["patchset"], CiVote.seen_at == seen))
    if existing is not None:
        return Stored(existing, False)
    row = CiVote(source=vote["source"], account=vote["account"], project=vote["project"],
                 change=vote["change"], patchset=vote["patchset"], branch=vote.get("branch", ""),
                 verified=vote["verified"], jobs=list(vote.get("jobs", [])), seen_at=seen,
                 comment=vote.get("comment", ""))
    session.add(row)
    session.commit()
    return Stored(row.id, True)
