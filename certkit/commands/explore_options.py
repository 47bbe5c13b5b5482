"""The exploration's options, shared by `certkit run --suite explore` and `certkit replay`."""

from __future__ import annotations

import argparse
from pathlib import Path

from certkit.errors import CertkitError
from certkit.explore.exploration import ExploreOptions

TIERS = ("driver", "api")
DEFAULT_DIRECTORY = "reports"
"""Where the example database and counterexamples go when no --report names a directory."""


def add_explore_options(parser: argparse.ArgumentParser) -> None:
    """--explore-budget, --explore-steps, --explore-seed, --explore-max-size."""
    group = parser.add_argument_group("exploration (--suite explore)")
    group.add_argument("--explore-budget", type=float, default=300.0, metavar="SECONDS",
                       help="seconds of exploration, shrinking excluded (default: 300)")
    group.add_argument("--explore-steps", type=int, default=20, metavar="N",
                       help="steps per explored sequence (default: 20)")
    group.add_argument("--explore-seed", type=int, metavar="N",
                       help="seed of the exploration (default: random; the report records it)")
    group.add_argument("--explore-examples", type=int, metavar="N",
                       help="stop after N sequences (default: only the budget stops the run)")
    group.add_argument("--explore-max-size", type=int, default=4, metavar="GIB",
                       help="largest share created, in GiB (default: 4; extends go 3 GiB beyond)")
    group.add_argument("--explore-max-rules", type=int, default=256, metavar="N",
                       help="most access rules on one share (default: 256; crowd grants draw "
                            "1..N rules at once)")
    group.add_argument("--explore-tier", choices=TIERS, default="driver",
                       help="driver: the driver in-process (default); api: through a Manila API "
                            "target (`certkit lab up manila` or an OS_* cloud), the real "
                            "scheduler and share manager")


def explore_options(args: argparse.Namespace, report: str | None) -> ExploreOptions:
    """The options, checked (a one-line error naming the option); files go beside the report."""
    if not 0 < args.explore_budget < float("inf"):
        raise CertkitError(f"--explore-budget {args.explore_budget}: must be a positive number of seconds")
    if args.explore_steps < 1:
        raise CertkitError(f"--explore-steps {args.explore_steps}: must be at least 1")
    if args.explore_seed is not None and not 0 <= args.explore_seed < 2 ** 32:
        raise CertkitError(f"--explore-seed {args.explore_seed}: must be in 0..{2 ** 32 - 1}")
    if args.explore_examples is not None and args.explore_examples < 1:
        raise CertkitError(f"--explore-examples {args.explore_examples}: must be at least 1")
    if args.explore_max_size < 1:
        raise CertkitError(f"--explore-max-size {args.explore_max_size}: must be at least 1 GiB")
    if args.explore_max_rules < 1:
        raise CertkitError(f"--explore-max-rules {args.explore_max_rules}: must be at least 1")
    directory = Path(report).parent if report else Path(DEFAULT_DIRECTORY)
    return ExploreOptions(budget=args.explore_budget, steps=args.explore_steps,
                          seed=args.explore_seed, directory=directory, max_size=args.explore_max_size,
                          examples=args.explore_examples, tier=args.explore_tier,
                          max_rules=args.explore_max_rules)
