"""certkit's command line: one sub-command per module in certkit.commands."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Sequence

from certkit import __version__, commands
from certkit.errors import CertkitError


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the parser; each module in certkit.commands adds its sub-command via register().
    With `command` (the first argument) naming one of those modules, only that one is imported:
    a command's start-up pays for no other command's imports (pytest, jsonschema...)."""
    parser = argparse.ArgumentParser(
        prog="certkit",
        description="Certification kit and third-party CI for OpenStack Manila share drivers.",
    )
    parser.add_argument("--version", action="version", version=f"certkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    infos = sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name)
    if any(info.name == command for info in infos):
        infos = [info for info in infos if info.name == command]
    for info in infos:
        module = importlib.import_module(f"certkit.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `certkit` console script; returns the exit status."""
    given = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(given[0] if given and not given[0].startswith("-") else None)
    args = parser.parse_args(given)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CertkitError as exc:
        print(f"certkit: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("certkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
