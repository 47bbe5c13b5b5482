"""`certkit checks`: the check catalogue (every check's UUID, suite, feature, level and docstring)."""

from __future__ import annotations

import argparse
import json
import shutil
import textwrap

from certkit.check_catalogue import CORE_PAGE, CatalogueEntry, as_json, collect_checks, select


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "checks", help="list every check: UUID, suite, feature, level and what it asks",
        description="List the checks of the suites, read from the code (no driver is loaded). "
                    "A per-variant check counts for a feature chosen per variant (e.g. "
                    "access_{access_type}: one variant per claimed access type); its JSON "
                    f"feature is null and its docs page `{CORE_PAGE}`. The API suite also runs manila-tempest-"
                    "plugin's tests as checks under their own idempotent ids; those are listed "
                    "at run time, not here.")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {uuid, name, suite, feature, level, doc}")
    parser.add_argument("--feature", action="append", dest="features", metavar="F", default=[],
                        help="only checks that count for this feature, per-variant ones included "
                             f"(repeatable; `{CORE_PAGE}`: the per-variant checks)")
    parser.add_argument("--suite", action="append", dest="suites", metavar="S", default=[],
                        help="only checks of this suite (repeatable)")
    parser.set_defaults(func=checks_command)


def checks_command(args: argparse.Namespace) -> int:
    """Print the selected checks as a table, or as JSON."""
    entries = select(collect_checks(), features=args.features, suites=args.suites)
    if args.json:
        print(json.dumps(as_json(entries), indent=2))
        return 0
    print(table(entries, width=shutil.get_terminal_size((110, 24)).columns))
    return 0


def table(entries: list[CatalogueEntry], width: int = 110) -> str:
    """One row per check (UUID, suite, feature, level, name), its docstring wrapped under it."""
    if not entries:
        return "no checks match"
    cols = ("UUID", "SUITE", "FEATURE", "LEVEL", "CHECK")
    rows = [(e.uuid, e.suite, e.feature or e.feature_pattern, e.level, e.name) for e in entries]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols[:-1])]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)) + "  " + cells[-1]

    indent = " " * (widths[0] + 2)
    out = [line(cols)]
    for entry, row in zip(entries, rows):
        out.append(line(row))
        if entry.doc:
            out += textwrap.wrap(entry.doc, width=max(width, len(indent) + 40),
                                 initial_indent=indent, subsequent_indent=indent)
    by_suite: dict[str, int] = {}
    for e in entries:
        by_suite[e.suite] = by_suite.get(e.suite, 0) + 1
    out.append("")
    out.append(f"{len(entries)} checks (" + ", ".join(f"{s} {n}" for s, n in by_suite.items()) + ")")
    return "\n".join(out)
