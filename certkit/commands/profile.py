"""`certkit profile init DRIVER_PATH`: write a starting profile from the driver's code."""

from __future__ import annotations

import argparse
import os
import sys

from certkit.audit.backends import Backend, backend_for_config, backends_of
from certkit.audit.discover import ImportFailure, resolve_named
from certkit.audit.scaffold import render_profile
from certkit.errors import CertkitError
from certkit.files import atomic_write


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("profile", help="driver profile tools")
    sub = parser.add_subparsers(dest="profile_command", metavar="SUBCOMMAND")
    init = sub.add_parser("init", help="write a starting profile from a driver class's code")
    init.add_argument("driver", metavar="DRIVER_PATH", help="dotted path of the driver class")
    init.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    init.add_argument("--name", help="profile name (default: from the module path)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                      help="manila.conf options that pick the back end: of a delegating driver "
                           "(emc_share_backend=unity) or of a driver factory "
                           "(NetAppDriver: driver_handles_share_servers=False)")
    init.set_defaults(func=init_command)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def config_pairs(pairs: list[str]) -> dict[str, str]:
    """`--config KEY=VALUE` options as a mapping."""
    config = dict(p.split("=", 1) for p in pairs if "=" in p)
    if len(config) != len(pairs):
        raise CertkitError("--config: give KEY=VALUE")
    return config


def _backend(cls: type, pairs: list[str]) -> Backend | None:
    """The back end `--config KEY=VALUE` selects (None: the class's first)."""
    if not pairs:
        return None
    backend = backend_for_config(cls, config_pairs(pairs))
    if backend is None:
        choices = ", ".join(b.choice for b in backends_of(cls) if isinstance(b, Backend) and b.choice)
        raise CertkitError(f"--config: selects none of {cls.__name__}'s back ends ({choices or 'it has one'})")
    return backend


def init_command(args: argparse.Namespace) -> int:
    """Audit the class and write the profile."""
    targets, factory = resolve_named(args.driver, config=config_pairs(args.config))
    if len(targets) != 1 or isinstance(targets[0], ImportFailure):
        problem = targets[0].error if targets and isinstance(targets[0], ImportFailure) else \
            f"{args.driver} names a module with {len(targets)} driver classes; give one class"
        raise CertkitError(f"{args.driver}: {problem}")
    if factory is not None:
        print(f"{factory.describe()}; writing the profile of {factory.resolved_path}",
              file=sys.stderr)
    backend = None if factory else _backend(targets[0], args.config)
    text = render_profile(targets[0], args.name, backend, factory)
    if not args.output:
        sys.stdout.write(text)
        return 0
    if os.path.exists(args.output) and not args.force:
        raise CertkitError(f"{args.output}: already exists (use --force to overwrite)")
    atomic_write(args.output, text)
    print(f"wrote {args.output}: review every inferred value before certifying", file=sys.stderr)
    return 0
