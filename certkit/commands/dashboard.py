"""`certkit dashboard`: serve the compatibility dashboard, manage tokens, load data, export."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from certkit.errors import CertkitError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="compatibility dashboard: CI results, CI health, unmaintained back ends",
        description="A web dashboard of certkit reports, static audits and Gerrit CI votes. "
                    "The database defaults to a SQLite file ($CERTKIT_DASHBOARD_DB or "
                    "~/.local/share/certkit/dashboard.sqlite); give --db postgresql://... to share one.")
    sub = parser.add_subparsers(dest="dashboard_command", metavar="ACTION", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", metavar="URL", help="database URL or SQLite file path")
        return p

    serve = with_db(sub.add_parser("serve", help="serve the dashboard (uvicorn)"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--rate-limit", type=float, default=120.0, metavar="N",
                       help="requests a minute per token on the ingest API (default 120; 0: none)")
    serve.add_argument("--max-report-mb", type=float, default=5.0, help="report size limit (MiB)")
    _rules_args(serve)
    serve.set_defaults(func=_serve)

    token = sub.add_parser("token", help="create, list or revoke CI accounts' bearer tokens")
    tsub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = with_db(tsub.add_parser("create", help="print a new token (only the token) on stdout"))
    create.add_argument("--account", required=True, help="CI account, e.g. acme-ci")
    create.add_argument("--profiles", action="append", default=[], metavar="GLOB",
                        help="profile names the token may publish for (repeatable), e.g. 'acme-*'")
    create.add_argument("--admin", action="store_true",
                        help="may publish audits and CI votes (the Gerrit listener, the release job)")
    create.set_defaults(func=_token_create)
    listing = with_db(tsub.add_parser("list", help="list tokens (never the tokens themselves)"))
    listing.set_defaults(func=_token_list)
    revoke = with_db(tsub.add_parser("revoke", help="revoke by id, prefix or account"))
    revoke.add_argument("which", help="token id or prefix from `token list`, or an account")
    revoke.set_defaults(func=_token_revoke)

    load = with_db(sub.add_parser("load", help="load reports, audits or profiles from files "
                                               "(no HTTP; for seeding and back-fills)"))
    load.add_argument("paths", nargs="+", metavar="PATH",
                      help="report JSON, audit JSON, profile YAML, or a directory of them")
    load.add_argument("--account", default="local", help="CI account recorded for loaded reports")
    load.set_defaults(func=_load)

    export = with_db(sub.add_parser("export", help="write the site as static HTML + JSON"))
    export.add_argument("dir", metavar="DIR")
    _rules_args(export)
    export.set_defaults(func=_export)


def _rules_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warn-days", type=int, default=14,
                        help="no passing report for this long: unmaintained warning (default 14)")
    parser.add_argument("--deprecate-days", type=int, default=60,
                        help="no passing report for this long: deprecation candidate (default 60)")
    parser.add_argument("--missing-days", type=int, default=7,
                        help="a profiled back end with no report this long is missing (default 7)")


def _rules(args: argparse.Namespace):
    from certkit.dashboard.health import Rules

    if not 0 < args.warn_days <= args.deprecate_days:
        raise CertkitError("dashboard: need 0 < --warn-days <= --deprecate-days")
    return Rules(args.warn_days, args.deprecate_days, args.missing_days)


def _sessions(args: argparse.Namespace):
    from certkit.dashboard.db import open_database

    return open_database(args.db)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from certkit.dashboard.app import Settings, create_app
    from certkit.dashboard.db import default_db_url, normalise_url
    from sqlalchemy.engine import make_url

    sessions = _sessions(args)
    settings = Settings(max_report_bytes=int(args.max_report_mb * 1024 * 1024),
                        reports_per_minute=args.rate_limit,
                        burst=max(1, int(args.rate_limit // 2)), rules=_rules(args))
    shown = make_url(normalise_url(args.db or default_db_url())).render_as_string(hide_password=True)
    print(f"certkit dashboard: database {shown}", file=sys.stderr, flush=True)
    print(f"certkit dashboard: serving http://{args.host}:{args.port}/", file=sys.stderr,
          flush=True)
    uvicorn.run(create_app(sessions, settings), host=args.host, port=args.port,
                log_level="warning", access_log=False)
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from certkit.dashboard.tokens import create_token

    with _sessions(args)() as session:
        print(create_token(session, args.account, args.profiles, args.admin))
    return 0


def _token_list(args: argparse.Namespace) -> int:
    from certkit.dashboard.tokens import list_tokens

    with _sessions(args)() as session:
        print(f"{'id':>4}  {'prefix':<10}  {'account':<20}  {'state':<8}  profiles")
        for t in list_tokens(session):
            state = "revoked" if t.revoked_at else ("admin" if t.admin else "active")
            print(f"{t.id:>4}  {t.prefix:<10}  {t.account:<20}  {state:<8}  {' '.join(t.profiles)}")
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    from certkit.dashboard.tokens import revoke_token

    with _sessions(args)() as session:
        count = revoke_token(session, args.which)
    print(f"revoked {count} token(s)")
    return 0


def _load(args: argparse.Namespace) -> int:
    from certkit.dashboard import ingest
    from certkit.dashboard.validation import report_problems, schema_problems
    from certkit.profile import load_profile

    files: list[Path] = []
    for raw in args.paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".json", ".yaml", ".yml"))
        elif path.exists():
            files.append(path)
        else:
            raise CertkitError(f"{raw}: no such file or directory")
    sessions = _sessions(args)
    # Profiles first: reports and audits then find their back ends' maintainers and claims.
    files.sort(key=lambda p: p.suffix == ".json")
    for path in files:
        with sessions() as session:
            if path.suffix in (".yaml", ".yml"):
                profile = load_profile(path, check_import=False)
                ingest.store_profile(session, profile.raw)
                print(f"{path}: profile {profile.name}")
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CertkitError(f"{path}: not readable JSON: {exc}") from None
            if isinstance(data, dict) and "drivers" in data:
                problems = schema_problems(data, "audit.schema.json")
                kind = "audit"
            else:
                problems = report_problems(data)
                kind = "report"
            if problems:
                raise CertkitError(f"{path}: {problems[0]['path'] or '/'}: {problems[0]['message']}")
            if kind == "audit":
                stored = ingest.store_audit(session, data)
            else:
                stored = ingest.store_report(session, data, args.account)
            print(f"{path}: {kind} {'stored' if stored.created else 'already stored'}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from certkit.dashboard.export import export_site

    out = Path(args.dir)
    count = export_site(_sessions(args), out, _rules(args),
                        progress=lambda line: print(line, file=sys.stderr))
    print(f"wrote {count} files under {out} (open {out / 'index.html'})")
    return 0
