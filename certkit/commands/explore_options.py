"""The exploration's options, shared by `certkit run --suite explore` and `certkit replay`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from certkit.errors import CertkitError
from certkit.explore.options import ExploreOptions

TIERS = ("driver", "api")
DEFAULT_DIRECTORY = "reports"
"""Where the example database and counterexamples go when no --report names a directory."""


def add_explore_options(parser: argparse.ArgumentParser) -> None:
    """--explore-budget, --explore-steps, --explore-seed, --explore-examples, --explore-max-size,
    --explore-max-rules, --explore-tier. Values are read as text and checked by
    `explore_options`, so a bad one is one line naming the option (not argparse's usage)."""
    group = parser.add_argument_group("exploration (--suite explore)")
    group.add_argument("--explore-budget", default="300", metavar="SECONDS",
                       help="seconds of exploration, shrinking excluded (default: 300)")
    group.add_argument("--explore-steps", default="20", metavar="N",
                       help="steps per explored sequence (default: 20)")
    group.add_argument("--explore-seed", metavar="N",
                       help="seed of the exploration (default: random; the report records it)")
    group.add_argument("--explore-examples", metavar="N",
                       help="stop after N sequences (default: only the budget stops the run)")
    group.add_argument("--explore-max-size", default="4", metavar="GIB",
                       help="largest share created, in GiB (default: 4; extends go 3 GiB beyond)")
    group.add_argument("--explore-max-rules", default="256", metavar="N",
                       help="most access rules on one share (default: 256; crowd grants draw "
                            "1..N rules at once)")
    group.add_argument("--explore-tier", default="driver", metavar="{driver,api}",
                       help="driver: the driver in-process (default); api: through a Manila API "
                            "target (`certkit lab up manila` or an OS_* cloud), the real "
                            "scheduler and share manager")


def _number(option: str, text: str | None, kind: type, low: float, high: float, what: str) -> Any:
    """`text` as an int or float in low..high (None stays None); a one-line error otherwise."""
    if text is None:
        return None
    try:
        value = kind(text)
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high or value != value:
        raise CertkitError(f"{option} {text}: must be {what}")
    return value


def explore_options(args: argparse.Namespace, report: str | None) -> ExploreOptions:
    """The options, checked (a one-line error naming the option); files go beside the report."""
    budget = _number("--explore-budget", args.explore_budget, float, 1e-9, 1e9,
                     "a positive number of seconds")
    steps = _number("--explore-steps", args.explore_steps, int, 1, 10 ** 6, "an integer of at least 1")
    seed = _number("--explore-seed", args.explore_seed, int, 0, 2 ** 32 - 1,
                   f"an integer in 0..{2 ** 32 - 1}")
    examples = _number("--explore-examples", args.explore_examples, int, 1, 10 ** 9,
                       "an integer of at least 1")
    max_size = _number("--explore-max-size", args.explore_max_size, int, 1, 10 ** 6,
                       "a whole number of GiB, at least 1")
    max_rules = _number("--explore-max-rules", args.explore_max_rules, int, 1, 10 ** 5,
                        "an integer of at least 1")
    if args.explore_tier not in TIERS:
        raise CertkitError(f"--explore-tier {args.explore_tier}: must be one of {', '.join(TIERS)}")
    directory = Path(report).parent if report else Path(DEFAULT_DIRECTORY)
    return ExploreOptions(budget=budget, steps=steps, seed=seed, directory=directory,
                          max_size=max_size, examples=examples, tier=args.explore_tier,
                          max_rules=max_rules)
