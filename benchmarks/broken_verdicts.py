"""How long a broken driver waits for its verdict, against the healthy run.

Runs the whole contract suite (no -k) once for the unmodified DummyDriver (and each reference
driver a broken family brings), then once per broken driver in tests/broken/, and prints each
verdict's time, its ratio to the healthy run, and whether it met the goal of issue 9:
within 10x the healthy run time plus one check timeout. Then a driver whose create_share never
returns is certified at the profile's default timeouts (60 s check, 30 s clean-up): its verdict
must come in under 100 s.

    .venv/bin/python benchmarks/broken_verdicts.py [--check-timeout 10] [--cleanup-timeout 10]
                                                   [--only NAME ...] [--skip-default-hang]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from certkit.profile import Profile, load_profile  # noqa: E402
from certkit.runner import run_certification  # noqa: E402

from results import record  # noqa: E402


def with_settings(profile: Profile, features: tuple[str, ...], **timeouts: float) -> Profile:
    """The profile with extra claimed features and some timeouts changed."""
    raw = {**profile.raw, "timeouts": {**profile.raw.get("timeouts", {}), **timeouts}}
    return dataclasses.replace(profile, raw=raw, features=profile.features + features)


def timed(profile: Profile, driver_class: type | None) -> tuple[float, dict]:
    start = time.perf_counter()
    report = run_certification(profile, driver_class=driver_class, audit=False).report
    return time.perf_counter() - start, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-timeout", type=float, default=10.0,
                        help="check timeout for the broken drivers (default 10 s; the hanging "
                             "create_share of tests/broken sleeps 30 s)")
    parser.add_argument("--cleanup-timeout", type=float, default=10.0,
                        help="clean-up timeout (and delete-retry budget) for the broken drivers")
    parser.add_argument("--only", action="append", metavar="NAME", help="only these broken drivers")
    parser.add_argument("--skip-default-hang", action="store_true",
                        help="skip the hanging driver at default timeouts (about 90 s)")
    args = parser.parse_args()

    from tests import broken, hostile_drivers

    dummy = load_profile(ROOT / "driver_profiles" / "manila-dummy.yaml")
    timeouts = {"check": args.check_timeout, "cleanup": args.cleanup_timeout}
    healthy: dict[tuple[type | None, tuple[str, ...]], float] = {}
    rows = []
    figures: dict = {}
    registry = broken.registry()
    for driver_class in registry:
        if args.only and driver_class.__name__ not in args.only:
            continue
        reference, extra = broken.setting(driver_class)
        profile = with_settings(dummy, extra, **timeouts)
        key = (reference, extra)
        if key not in healthy:
            seconds, report = timed(profile, reference)
            healthy[key] = seconds
            print(f"healthy {(reference.__name__ if reference else 'DummyDriver')}"
                  f"{' +' + ','.join(extra) if extra else ''}: {seconds:.1f} s, "
                  f"verdict {report['verdict']}", flush=True)
        seconds, report = timed(profile, driver_class)
        goal = 10 * healthy[key] + args.check_timeout
        rows.append((driver_class.__name__, report["verdict"], seconds, seconds / healthy[key],
                     seconds <= goal))
        print(f"  {driver_class.__name__:<44} {report['verdict']:<14} {seconds:6.1f} s "
              f"{seconds / healthy[key]:5.1f}x healthy  {'ok' if seconds <= goal else 'SLOW'}",
              flush=True)

    if rows:
        worst = max(rows, key=lambda r: r[2])
        met = sum(r[4] for r in rows)
        print(f"\n{len(rows)} broken drivers (check timeout {args.check_timeout:g} s, clean-up "
              f"{args.cleanup_timeout:g} s): {met}/{len(rows)} within 10x healthy + one timeout; "
              f"slowest {worst[0]} {worst[2]:.1f} s ({worst[3]:.1f}x); "
              f"{sum(r[1] != 'certified' for r in rows)}/{len(rows)} not certified")
        figures.update({
            "broken_drivers": len(rows), "not_certified": sum(r[1] != "certified" for r in rows),
            "within_goal": met, "check_timeout_s": args.check_timeout,
            "cleanup_timeout_s": args.cleanup_timeout, "slowest_driver": worst[0],
            "slowest_s": round(worst[2], 1), "slowest_ratio": round(worst[3], 1),
            "healthy_s": round(min(healthy.values()), 1),
        })
    if not args.skip_default_hang:
        try:
            seconds, report = timed(dummy, hostile_drivers.HangsForever)
        finally:
            hostile_drivers.RELEASE.set()
        ran = sum(not c["message"].startswith("not run") for c in report["checks"])
        print(f"\nhanging create_share at default timeouts ({dummy.timeouts['check']:g} s check, "
              f"{dummy.timeouts['cleanup']:g} s clean-up): verdict {report['verdict']} in "
              f"{seconds:.1f} s ({ran} checks ran, {len(report['checks']) - ran} not run)")
        figures["default_hang"] = {"verdict": report["verdict"], "seconds": round(seconds, 1),
                                   "checks_ran": ran, "not_run": len(report["checks"]) - ran}
    if figures and not args.only:  # a partial run (--only) does not replace the recorded figures
        record("broken_verdicts", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
