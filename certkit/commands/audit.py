"""`certkit audit`: static audit of back ends, a compatibility matrix, profile drift, doc drift."""

from __future__ import annotations

import argparse
import json
import sys
import time

from certkit.audit import audit_rows, in_tree, profile_drift
from certkit.audit.discover import resolve_named
from certkit.audit.discover import DEFAULT_IMPORT_TIMEOUT
from certkit.audit.docmap import compare_doc, render_comparison
from certkit.audit.render import cell_totals, dumps_json, to_html, to_markdown, to_table
from certkit.errors import CertkitError
from certkit.files import PUBLIC_MODE, atomic_write
from certkit.profile import load_profile
from certkit.schema_check import schema_errors

EXIT_OK, EXIT_FALSE_CLAIMS, EXIT_USAGE, EXIT_NOT_AUDITED = 0, 1, 2, 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit", help="static audit of driver back ends against the installed ShareDriver ABC",
        description="Audit driver classes (a class path, a module, or --in-tree for every back end "
                    "of the installed manila.share.drivers) or a profile's claims (--profile). "
                    "Exit status: 0 audited, 1 a profile makes false claims, 2 unusable input, "
                    "3 a requested target could not be audited.")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="driver class path or module")
    parser.add_argument("--in-tree", action="store_true", help="every in-tree back end")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                        help="manila.conf options a driver factory reads to pick its class "
                             "(NetAppDriver: driver_handles_share_servers=False)")
    parser.add_argument("--profile", metavar="FILE", help="compare a profile's claims with its back end")
    parser.add_argument("--json", metavar="PATH", help="write JSON (audit.schema.json); - for stdout")
    parser.add_argument("--html", metavar="PATH", help="write the compatibility matrix as one HTML page")
    parser.add_argument("--markdown", metavar="PATH", help="write the compatibility matrix as Markdown")
    parser.add_argument("--compare-doc", metavar="FILE",
                        help="list the cells of Manila's share_back_ends_feature_support_mapping.rst "
                             "that the code contradicts")
    parser.add_argument("--import-timeout", type=float, default=DEFAULT_IMPORT_TIMEOUT, metavar="SECONDS",
                        help=f"give up on a module whose import takes longer (default {DEFAULT_IMPORT_TIMEOUT:g})")
    parser.set_defaults(func=audit_command)


def audit_command(args: argparse.Namespace) -> int:
    """Exit 0 when audited, 1 when a profile makes false claims, 2 on unusable input, 3 when a
    requested target could not be audited."""
    if args.profile:
        return _drift(args.profile)
    if not args.targets and not args.in_tree:
        raise CertkitError("audit: give a TARGET (class path or module), --in-tree, or --profile FILE")
    if args.import_timeout <= 0:
        raise CertkitError("--import-timeout: must be a positive number of seconds")
    start = time.perf_counter()
    found = in_tree(args.import_timeout) if args.in_tree else []
    config = dict(p.split("=", 1) for p in args.config if "=" in p)
    if len(config) != len(args.config):
        raise CertkitError("--config: give KEY=VALUE")
    chosen = []
    for target in args.targets:
        classes, factory = resolve_named(target, args.import_timeout, config)
        found.extend(classes)
        if factory is not None:
            chosen.append(f"{factory.describe()}; audited {factory.resolved_path}")
    rows = audit_rows(found)
    comparison = compare_doc(args.compare_doc, rows) if args.compare_doc else None
    if args.json:
        text = dumps_json(rows, comparison.drift if comparison else None)
        problems = schema_errors(json.loads(text), "audit.schema.json")
        if problems:
            raise CertkitError(f"internal error: audit JSON does not match its schema: {problems[0]}")
        if args.json == "-":
            sys.stdout.write(text)
        else:
            atomic_write(args.json, text, mode=PUBLIC_MODE)
    if args.html:
        atomic_write(args.html, to_html(rows), mode=PUBLIC_MODE)
    if args.markdown:
        atomic_write(args.markdown, to_markdown(rows), mode=PUBLIC_MODE)
    out = sys.stderr if args.json == "-" else sys.stdout
    for line in chosen:
        print(line, file=out)
    print(to_table(rows), file=out)
    totals = cell_totals(rows)
    print("cells: " + ", ".join(f"{v} {k}" for k, v in totals.items()), file=out)
    if comparison is not None:
        print(render_comparison(comparison, args.compare_doc), file=out)
    print(f"audited in {time.perf_counter() - start:.1f} s", file=out)
    for path in (args.html, args.markdown, args.json):
        if path and path != "-":
            print(f"wrote {path}", file=out)
    failed = [r.path for r in rows if not r.imported]
    audited = len(rows) - len(failed)
    if args.targets and any(_requested_failed(t, failed) for t in args.targets) or not audited:
        print(f"error: could not audit: {', '.join(failed) or 'nothing found'}", file=sys.stderr)
        return EXIT_NOT_AUDITED
    return EXIT_OK


def _requested_failed(target: str, failed: list[str]) -> bool:
    return any(path == target or path.startswith(target + ".") or path.startswith(target + " [")
               for path in failed)


def _drift(path: str) -> int:
    profile = load_profile(path)
    drift = profile_drift(profile)
    for line in drift.errors:
        print(f"error: {line}")
    for line in drift.notes:
        print(f"note: {line}")
    print(f"{len(drift.errors)} false claim(s), {len(drift.notes)} note(s)")
    return EXIT_FALSE_CLAIMS if drift.errors else EXIT_OK
