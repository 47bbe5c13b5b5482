"""`certkit run PROFILE`: certify a driver profile and write the report."""

from __future__ import annotations

import argparse
import sys

from certkit.profile import load_profile
from certkit.report import feature_table, write_json, write_junit
from certkit.runner import DEFAULT_SUITES, available_suites, run_certification


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="certify a driver profile: run the suites and write the report",
        description="Run the contract suites (and others) against the profile's driver, print "
                    "a feature table and write a JSON report and JUnit XML.")
    parser.add_argument("profile", help="driver profile (YAML), e.g. driver_profiles/manila-dummy.yaml")
    parser.add_argument("--suite", action="append", dest="suites", metavar="NAME",
                        help=f"suite to run (repeatable; default: {', '.join(DEFAULT_SUITES)}; "
                             f"available: {', '.join(available_suites())})")
    parser.add_argument("--report", metavar="PATH", help="write the JSON report here")
    parser.add_argument("--junit-xml", metavar="PATH", help="write JUnit XML here")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", help="only checks matching EXPR (pytest -k)")
    parser.add_argument("--check-timeout", type=float, metavar="SECONDS",
                        help="per-check timeout (default: the profile's timeouts.check, 60 s)")
    parser.add_argument("--plot", metavar="DIR",
                        help="with --suite scale: write latency-vs-N charts (PNG and SVG) here")
    parser.add_argument("--no-audit", action="store_true",
                        help="skip the static audit of the profile's claims before the run")
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Exit 0 when certified, 1 when not, 2 on unusable input."""
    profile = load_profile(args.profile)
    live = sys.stderr.isatty()

    def progress(line: str) -> None:
        if live:
            sys.stderr.write("\r\033[K" + line)
            sys.stderr.flush()
        else:
            print(line, file=sys.stderr, flush=True)

    print(f"certkit: certifying {profile.name} ({profile.driver})", file=sys.stderr, flush=True)
    outcome = run_certification(profile, suites=args.suites or DEFAULT_SUITES,
                                keyword=args.keyword, progress=progress,
                                check_timeout=args.check_timeout, audit=not args.no_audit)
    if live:
        sys.stderr.write("\r\033[K")
    report = outcome.report
    if args.report:
        write_json(report, args.report)
    if args.junit_xml:
        write_junit(report, args.junit_xml)
    plots = _plot(report, args.plot) if args.plot else []
    _print_summary(report)
    if args.report:
        print(f"report: {args.report}")
    if args.junit_xml:
        print(f"junit:  {args.junit_xml}")
    if plots:
        print(f"plots:  {args.plot} ({len(plots) // 2} operations, PNG and SVG)")
    if report.get("interrupted"):
        return 130
    return 0 if report["verdict"] == "certified" else 1


def _plot(report: dict, directory: str) -> list:
    """Scale charts, when the run measured scale."""
    if not report.get("scale"):
        print(f"certkit: --plot {directory}: no scale results to plot (add --suite scale)",
              file=sys.stderr)
        return []
    from certkit.scale.plot import write_plots

    return write_plots(report["scale"], directory)


def _print_summary(report: dict) -> None:
    print()
    print(feature_table(report))
    print()
    for check in report["checks"]:
        if check["outcome"] in ("failed", "error"):
            name = check["name"] + (f"[{check['variant']}]" if check.get("variant") else "")
            print(f"{check['outcome'].upper()}: {name} ({check['feature']}): {check['message']}")
    for warning in report["warnings"]:
        print(f"warning: {warning}")
    for leak in report["leaks"]:
        print(f"LEAKED: {leak['kind']} {leak['name']}: {leak['error']}")
    s = report["summary"]
    timing = report["timing"]
    print(f"{s['total']} checks: {s['passed']} passed, {s['failed']} failed, "
          f"{s['skipped']} skipped, {s['error']} error in {report['duration']:.1f} s "
          f"(driver {timing['driver_seconds']:.2f} s, harness {timing['harness_seconds']:.2f} s)")
    for reason in report["reasons"][:10]:
        print(f"  - {reason}")
    print(f"verdict: {report['verdict']}")
