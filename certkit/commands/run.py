"""`certkit run PROFILE`: certify a driver profile and write the report."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable

from certkit.commands.explore_options import add_explore_options, explore_options
from certkit.errors import CertkitError
from certkit.files import check_output_paths
from certkit.profile import Profile, load_profile
from certkit.report import check_label, feature_table, write_json, write_junit
from certkit.runner import DEFAULT_SUITES, available_suites, run_certification
from certkit.verdict import describe

EXIT_CERTIFIED, EXIT_NOT_CERTIFIED, EXIT_ERROR, EXIT_PARTIAL = 0, 1, 2, 3
EXIT_STATUS = {"certified": EXIT_CERTIFIED, "passed": EXIT_CERTIFIED, "partial": EXIT_PARTIAL,
               "not-certified": EXIT_NOT_CERTIFIED, "failed": EXIT_NOT_CERTIFIED}
"""A suite-scoped verdict exits like its certification twin: 0 when every required check asked
for passed, 1 when one failed; the verdict and its scope say whether it is a certificate."""
EXIT_SIGNAL = {"SIGINT": 130, "SIGTERM": 143}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="certify a driver profile: run the suites and write the report",
        description="Run the contract suites (and others) against the profile's driver, print "
                    "a feature table and write a JSON report and JUnit XML. A run without the "
                    "contract suite (e.g. --suite scale alone) gets a suite-scoped verdict, "
                    "passed or failed about the suites it ran, never certified. Exit status: 0 "
                    "certified (or passed, suite-scoped), 1 not certified (or failed), 3 partial "
                    "(not every selected check ran), 2 unusable input or an output that could "
                    "not be written, 130/143 interrupted by SIGINT/SIGTERM.")
    parser.add_argument("profile", help="driver profile (YAML), e.g. driver_profiles/manila-dummy.yaml")
    parser.add_argument("--suite", action="append", dest="suites", metavar="NAME",
                        help=f"suite to run (repeatable; default: {', '.join(DEFAULT_SUITES)}; "
                             f"available: {', '.join(available_suites())})")
    parser.add_argument("--report", metavar="PATH", help="write the JSON report here")
    parser.add_argument("--junit-xml", metavar="PATH", help="write JUnit XML here")
    parser.add_argument("-k", dest="keyword", metavar="EXPR",
                        help="only checks matching EXPR (pytest -k; a check's uuid selects it); "
                             "the verdict of a filtered run is at best 'partial'")
    parser.add_argument("--check-timeout", type=float, metavar="SECONDS",
                        help="per-check timeout (default: the profile's timeouts.check, 60 s)")
    parser.add_argument("--plot", metavar="DIR",
                        help="with --suite scale: write latency-vs-N charts (PNG and SVG) here")
    add_explore_options(parser)
    parser.add_argument("--no-audit", action="store_true",
                        help="skip the static audit of the profile's claims before the run")
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Certify; the exit status says the verdict (see the parser's description)."""
    check_output_paths({"--report": args.report, "--junit-xml": args.junit_xml},
                       {"profile": args.profile})
    if args.check_timeout is not None and not 0 < args.check_timeout < float("inf"):
        raise CertkitError(f"--check-timeout {args.check_timeout}: must be a positive number of seconds")
    profile = load_profile(args.profile)
    # Set by certkit's CI when the Manila under test is a Gerrit change (checked before the run).
    manila_source = _manila_source(os.environ.get("CERTKIT_MANILA_SOURCE", ""))
    try:
        return _certify(args, profile, manila_source)
    except CertkitError as exc:
        raise CertkitError(profile.redact(str(exc))) from None


def _certify(args: argparse.Namespace, profile: Profile, manila_source: dict | None) -> int:
    live = sys.stderr.isatty()

    def progress(line: str) -> None:
        if live:
            sys.stderr.write("\r\033[K" + line)
            sys.stderr.flush()
        else:
            print(line, file=sys.stderr, flush=True)

    suites = args.suites or DEFAULT_SUITES
    options = explore_options(args, args.report)  # bad options: one line before any output
    api_target = None
    if "api" in suites or ("explore" in suites and options.tier == "api"):
        # before anything runs: which Manila, or a one-line error
        from certkit.livestack.targets import resolve_api_target

        from certkit.apitier.target import check_reachable

        api_target = resolve_api_target(profile, os.environ)
        check_reachable(api_target)
    print(f"certkit: certifying {profile.name} ({profile.driver})", file=sys.stderr, flush=True)
    finished = run_certification(profile, suites=suites, keyword=args.keyword, progress=progress,
                                 check_timeout=args.check_timeout, audit=not args.no_audit,
                                 api_target=api_target,
                                 explore_options=options)
    if live:
        sys.stderr.write("\r\033[K")
    report = finished.report
    if manila_source:
        report["manila_source"] = manila_source
    written, failed = _write_outputs(report, [("report", args.report, write_json),
                                              ("junit", args.junit_xml, write_junit)])
    plots = _plot(report, args.plot) if args.plot else []
    _print_summary(report)
    for label, path in written:
        print(f"{label + ':':<7} {path}")
    if plots:
        print(f"plots:  {args.plot} ({len(plots) // 2} operations, PNG and SVG)")
    for problem in failed:
        print(f"certkit: error: {profile.redact(problem)}", file=sys.stderr)
    if finished.signal in EXIT_SIGNAL:
        return EXIT_SIGNAL[finished.signal]
    if report.get("interrupted"):
        return EXIT_SIGNAL["SIGINT"]
    if failed:
        return EXIT_ERROR
    return EXIT_STATUS.get(report["verdict"], EXIT_NOT_CERTIFIED)


def _write_outputs(report: dict[str, Any], outputs: list[tuple[str, str | None, Callable[..., None]]]
                   ) -> tuple[list[tuple[str, str]], list[str]]:
    """Write every requested output; one that fails does not stop the others."""
    written, failed = [], []
    for label, path, write in outputs:
        if not path:
            continue
        try:
            write(report, path)
        except CertkitError as exc:
            failed.append(f"{label} not written: {exc}")
        else:
            written.append((label, path))
    return written, failed


def _manila_source(text: str) -> dict | None:
    """CERTKIT_MANILA_SOURCE: JSON {project, change, patchset, ref, commit}, or None."""
    if not text:
        return None
    try:
        source = json.loads(text)
    except ValueError:
        source = None
    if not isinstance(source, dict):
        raise CertkitError("CERTKIT_MANILA_SOURCE: expected a JSON object "
                           "{project, change, patchset, ref, commit}")
    return source


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
            print(f"{check['outcome'].upper()}: {check_label(check)}: {check['message']}")
            if check.get("docs"):
                print(f"  what it asks and how to fix it: {check['docs']}")
    for warning in report["warnings"]:
        print(f"warning: {warning}")
    for leak in report["leaks"]:
        print(f"LEAKED: {leak['kind']} {leak['name']}: {leak['error']}")
    s = report["summary"]
    timing = report["timing"]
    print(f"{s['total']} checks: {s['passed']} passed, {s['failed']} failed, "
          f"{s['skipped']} skipped, {s['error']} error in {report['duration']:.1f} s "
          f"(driver {timing['driver_seconds']:.2f} s, harness {timing['harness_seconds']:.2f} s)")
    selection = report.get("selection") or {}
    if selection.get("keyword"):
        print(f"selection: suites {', '.join(selection['suites'])}, -k {selection['keyword']!r}")
    for reason in report["reasons"][:10]:
        print(f"  - {reason}")
    if len(report["reasons"]) > 10:
        print(f"  - ... and {len(report['reasons']) - 10} more (see the report)")
    print(f"verdict: {describe(report['verdict'], report.get('scope'))}")
