"""The harness's own cost at scale: Manila's DummyDriver (no storage, every delay 0) grown to
10,000 shares by the scale suite at concurrency 1, so that wall time minus time inside driver
calls is the harness's. Prints it per share, with where it goes.

    .venv/bin/python benchmarks/scale_harness.py [--target 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from certkit.profile import load_profile  # noqa: E402
from certkit.runner import run_certification  # noqa: E402


def per_call_us(func, calls: int = 2000) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        func()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=100)
    args = parser.parse_args()
    data = yaml.safe_load((ROOT / "driver_profiles" / "manila-dummy.yaml").read_text())
    data["scale"] = {"target_shares": args.target, "steps": [100, 1000, args.target][-3:],
                     "rules_per_share": args.rules, "samples": 20, "concurrency": 1}
    data["scale"]["steps"] = sorted({s for s in data["scale"]["steps"] if s <= args.target})
    path = Path(tempfile.mkdtemp(prefix="certkit-scale-")) / "dummy-scale.yaml"
    path.write_text(yaml.safe_dump(data))
    report = run_certification(load_profile(path), suites=["scale"], audit=False,
                               keyword="test_target_reached").report
    scale = report["scale"]
    timing = scale["timing"]
    print(f"dummy to N={scale['reached_shares']:,} (steps {scale['steps']}, {args.rules} rules, "
          f"concurrency 1): verified {scale['verified_shares']:,}")
    print(f"scale run {timing['elapsed_seconds']:.1f} s, inside the driver "
          f"{timing['driver_seconds']:.1f} s, {timing['shares_created']:,} shares created")
    print(f"harness: {timing['harness_ms_per_share']:.3f} ms per share (everything outside driver "
          f"calls: models, ledger, schema checks, workers, rules and restart phases)")
    print(f"teardown of {scale['teardown']['shares']:,} shares: {scale['teardown']['seconds']:.1f} s")
    from certkit.contract.checks import expect_schema
    from certkit.harness.models import ModelFactory
    from results import record

    models = ModelFactory("0badcafe", "bench", "pool")
    locations = [{"path": f"10.0.0.{i}:/share", "is_admin_only": False,
                  "metadata": {"preferred": i == 1}} for i in (1, 2)]
    print(f"where a create goes (us per call): share model {per_call_us(lambda: models.share('NFS')):.0f}, "
          f"export-location schema check "
          f"{per_call_us(lambda: expect_schema(locations, 'export_locations.schema.json', 'x')):.0f}")
    record("scale_harness", {
        "target_shares": args.target, "verified_shares": scale["verified_shares"],
        "scale_run_s": round(timing["elapsed_seconds"], 1), "driver_s": round(timing["driver_seconds"], 1),
        "harness_ms_per_share": round(timing["harness_ms_per_share"], 3),
        "teardown_s": round(scale["teardown"]["seconds"], 1),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
