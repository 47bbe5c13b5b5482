"""certkit's command line: one sub-command per module in certkit.commands."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Sequence

from certkit import __version__, commands
from certkit.errors import CertkitError


def build_parser() -> argparse.ArgumentParser:
    """Build the parser; each module in certkit.commands adds its sub-command via register()."""
    parser = argparse.ArgumentParser(
        prog="certkit",
        description="Certification kit and third-party CI for OpenStack Manila share drivers.",
    )
    parser.add_argument("--version", action="version", version=f"certkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"certkit.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `certkit` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
