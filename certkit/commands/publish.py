"""`certkit publish REPORT --to URL`: send a report to the compatibility dashboard."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from certkit.errors import CertkitError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "publish", help="send a certkit report to the compatibility dashboard",
        description="POST a JSON report to DASHBOARD/api/v1/reports with the token from "
                    "CERTKIT_DASHBOARD_TOKEN. A report the dashboard cannot take now stays in "
                    "the spool directory and is sent by the next publish (or --flush).")
    parser.add_argument("reports", nargs="*", type=Path, metavar="REPORT", help="report JSON file(s)")
    parser.add_argument("--to", required=True, metavar="URL", help="dashboard base URL")
    parser.add_argument("--spool", type=Path, metavar="DIR",
                        help="spool directory (default: $XDG_STATE_HOME/certkit/spool)")
    parser.add_argument("--kind", choices=("reports", "audits", "ci-votes"), default="reports",
                        help="endpoint (default: reports)")
    parser.add_argument("--flush", action="store_true", help="only send what is spooled")
    parser.add_argument("--retries", type=int, default=4, metavar="N",
                        help="retries (with backoff: 0.5, 1, 2, 4 s...) of the one request that "
                             "finds the dashboard down or busy; the rest of the spool waits for "
                             "the next publish (default 4, about 8 s)")
    parser.set_defaults(func=publish_command)


def publish_command(args: argparse.Namespace) -> int:
    """Exit 0 when everything was accepted, 1 when something stays spooled or was rejected."""
    from certkit.publish import TOKEN_ENV, Publisher, default_spool_dir

    if not args.reports and not args.flush:
        raise CertkitError("publish: name a REPORT or use --flush")
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise CertkitError(f"{TOKEN_ENV} is not set (the dashboard token comes from the environment)")
    bodies: list[tuple[str, dict]] = []
    for path in args.reports:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CertkitError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise CertkitError(f"{path}: not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise CertkitError(f"{path}: not a certkit report (a JSON object)")
        bodies.append((str(path), body))
    if not 0 <= args.retries <= 10:
        raise CertkitError("publish: --retries: must be 0 to 10")
    publisher = Publisher(args.to, token, args.spool or default_spool_dir(), retries=args.retries)
    # Spool everything first, then one flush: with the dashboard down, the first body's retries
    # are the only wait, however many files were given or are spooled.
    for source, body in bodies:
        publisher.spool(args.kind, body, source)
    results = publisher.flush()
    for result in results:
        where = f" {result.url}" if result.url else ""
        print(f"{result.status}: {result.kind} {result.label}: {result.detail}{where}")
    untried = [p for p in publisher.pending() if p.name not in {r.name for r in results}]
    if untried:
        names = [publisher.source_of(p) or p.name for p in untried]
        print(f"not tried (the dashboard did not take the one before): {', '.join(names)}")
    left = len(publisher.pending())
    if left:
        print(f"{left} spooled in {publisher.spool_dir / 'pending'}; run `certkit publish --flush "
              f"--to {args.to}` later")
    return 0 if all(r.status == "accepted" for r in results) and not left else 1
