"""`certkit features`: the feature catalogue, as read against the installed Manila."""

from __future__ import annotations

import argparse
import json

from certkit.catalogue import FEATURES
from certkit.manila_abc import available_in_installed_manila
from certkit.manila_env import prepare_manila


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("features", help="list the feature catalogue (ids for profiles)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=features_command)


def features_command(args: argparse.Namespace) -> int:
    """Print every feature: id, title, release, methods, implied capabilities."""
    version = prepare_manila()
    rows = [{"id": f.id, "title": f.title, "since": f.release,
             "methods": [list(group) for group in f.method_sets()], "hooks": list(f.hooks),
             "capabilities": [c.describe() for c in f.capabilities],
             "dhss_only": f.dhss is True, "claimed_via": "profile keys" if f.derived else "features",
             "in_installed_manila": available_in_installed_manila(f)} for f in FEATURES]
    if args.json:
        print(json.dumps({"manila_version": version, "features": rows}, indent=2))
        return 0
    width = max(len(r["id"]) for r in rows)
    print(f"Feature catalogue (installed Manila {version})")
    for r in rows:
        methods = " | ".join("+".join(g) for g in r["methods"]) or "(base class)"
        note = "" if r["in_installed_manila"] else "  [not in this Manila]"
        via = "  [claimed via protocols/access/DHSS keys]" if r["claimed_via"] == "profile keys" else ""
        print(f"{r['id']:<{width}}  {r['since']:<22} {r['title']}{note}{via}")
        print(f"{'':<{width}}  methods: {methods}")
        if r["capabilities"]:
            print(f"{'':<{width}}  stats:   {', '.join(r['capabilities'])}")
    return 0
