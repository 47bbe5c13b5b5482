"""Synthetic certkit reports that match report.schema.json: for tests, benchmarks and load checks."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from certkit.catalogue import FEATURES

FEATURE_IDS = [f.id for f in FEATURES]


def check_ids(count: int, seed: int = 1) -> list[str]:
    """Stable uuid4-shaped check ids (the same seed gives the same ids)."""
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def report(profile: str = "acme-nfs", run_id: str | None = None, *, vendor: str = "Acme",
           driver: str = "acme.manila.AcmeShareDriver", manila_version: str = "23.0.0",
           started_at: datetime | None = None, checks: int = 8, failing: dict[int, str] | None = None,
           features: list[str] | None = None, seed: int = 1, message: str = "") -> dict[str, Any]:
    """A report of `checks` checks spread over `features`; `failing` maps check index -> message."""
    failing = failing or {}
    features = features or FEATURE_IDS[:4]
    started = started_at or datetime.now(timezone.utc)
    ids = check_ids(checks, seed)
    rows = []
    for i, cid in enumerate(ids):
        feature = features[i % len(features)]
        outcome = "failed" if i in failing else "passed"
        rows.append({"id": cid, "name": f"test_{feature}_{i}", "suite": "contract",
                     "feature": feature, "level": "required", "outcome": outcome,
                     "duration": 0.05 + (i % 7) * 0.01,
                     "message": failing.get(i, message if outcome == "passed" else "")})
    failed_features = {rows[i]["feature"] for i in failing if i < len(rows)}
    feature_block = {f: {"claimed": True, "status": "failed" if f in failed_features else "verified",
                         "required_checks": sum(1 for r in rows if r["feature"] == f),
                         "passed": sum(1 for r in rows if r["feature"] == f and r["outcome"] == "passed")}
                     for f in features}
    passed = sum(1 for r in rows if r["outcome"] == "passed")
    duration = round(sum(r["duration"] for r in rows) + 1.0, 3)
    return {
        "format": 1, "certkit_version": "0.1.0",
        "profile": {"name": profile, "path": f"driver_profiles/{profile}.yaml", "vendor": vendor,
                    "dhss_modes": [False]},
        "driver": driver, "manila_version": manila_version, "python_version": "3.11.7",
        "run_id": run_id or uuid.uuid4().hex[:8],
        "started_at": started.isoformat(), "duration": duration, "suites": ["contract"],
        "interrupted": False, "selection": {"suites": ["contract"], "keyword": None},
        "checks": rows, "features": feature_block,
        "summary": {"total": len(rows), "passed": passed, "failed": len(rows) - passed,
                    "skipped": 0, "error": 0},
        "verdict": "not-certified" if failing else "certified",
        "reasons": [f"{len(failing)} required check(s) failed"] if failing else [],
        "warnings": [], "leaks": [],
        "timing": {"total_seconds": duration, "driver_seconds": duration / 2,
                   "harness_seconds": duration / 2},
    }


def history(profile: str, runs: int, *, days: float = 30.0, fail_every: int = 5,
            **kwargs: Any) -> list[dict[str, Any]]:
    """`runs` reports spread over the last `days`, every `fail_every`-th one failing its first check."""
    now = datetime.now(timezone.utc)
    out = []
    for i in range(runs):
        started = now - timedelta(days=days * (runs - i) / runs)
        failing = {0: "share did not reach status available"} if fail_every and i % fail_every == 1 \
            else None
        out.append(report(profile, f"{i:08x}", started_at=started, failing=failing, **kwargs))
    return out
