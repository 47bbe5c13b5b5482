"""`certkit audit`: static audit of driver classes, a compatibility matrix, profile drift."""

from __future__ import annotations

import argparse
import sys
import time

from certkit.audit import audit_class, audit_failure, in_tree, profile_drift, resolve_target
from certkit.audit.render import dumps_json, to_html, to_markdown, to_table
from certkit.errors import CertkitError
from certkit.profile import load_profile
from certkit.files import atomic_write
from certkit.schema_check import schema_errors


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit", help="static audit of driver classes against the installed ShareDriver ABC",
        description="Audit driver classes (a class path, a module, or --in-tree for every driver "
                    "in the installed manila.share.drivers) or a profile's claims (--profile).")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="driver class path or module")
    parser.add_argument("--in-tree", action="store_true", help="every in-tree ShareDriver subclass")
    parser.add_argument("--profile", metavar="FILE", help="compare a profile's claims with its driver")
    parser.add_argument("--json", metavar="PATH", help="write JSON (audit.schema.json); - for stdout")
    parser.add_argument("--html", metavar="PATH", help="write the compatibility matrix as one HTML page")
    parser.add_argument("--markdown", metavar="PATH", help="write the compatibility matrix as Markdown")
    parser.set_defaults(func=audit_command)


def audit_command(args: argparse.Namespace) -> int:
    """Exit 0 when clean, 1 when a profile makes false claims, 2 on unusable input."""
    if args.profile:
        return _drift(args.profile)
    if not args.targets and not args.in_tree:
        raise CertkitError("audit: give a TARGET (class path or module), --in-tree, or --profile FILE")
    start = time.perf_counter()
    found = in_tree() if args.in_tree else []
    for target in args.targets:
        found.extend(resolve_target(target))
    rows = [audit_class(t) if isinstance(t, type) else audit_failure(t) for t in found]
    rows.sort(key=lambda r: r.path)
    if args.json:
        text = dumps_json(rows)
        problems = schema_errors(__import__("json").loads(text), "audit.schema.json")
        if problems:
            raise CertkitError(f"internal error: audit JSON does not match its schema: {problems[0]}")
        if args.json == "-":
            sys.stdout.write(text)
        else:
            atomic_write(args.json, text)
    if args.html:
        atomic_write(args.html, to_html(rows))
    if args.markdown:
        atomic_write(args.markdown, to_markdown(rows))
    if args.json != "-":
        print(to_table(rows))
        print(f"audited in {time.perf_counter() - start:.1f} s")
        for path in (args.html, args.markdown, args.json):
            if path:
                print(f"wrote {path}")
    return 0


def _drift(path: str) -> int:
    profile = load_profile(path)
    drift = profile_drift(profile)
    for line in drift.errors:
        print(f"error: {line}")
    for line in drift.notes:
        print(f"note: {line}")
    print(f"{len(drift.errors)} false claim(s), {len(drift.notes)} note(s)")
    return 1 if drift.errors else 0
