"""The exploration's options, apart from the exploration itself: reading them (`certkit run`,
`certkit replay`) must not import Hypothesis, which costs every command a second of CPU."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ExploreOptions:
    """`--explore-budget`, `--explore-steps`, `--explore-seed`, and where files go."""

    budget: float = 300.0
    steps: int = 20
    seed: int | None = None
    directory: Path | None = None
    """Where the example database and a replay file go (the report's directory)."""
    max_size: int = 4
    examples: int | None = None
    """Stop after this many sequences (None: only the budget stops): a run of fixed work, the
    same on any machine."""
    max_rules: int = 256
    """Most rules a share gets (crowd grants draw their size from 1 up to this)."""
    tier: str = "driver"
    """`driver`: the profile's driver in-process, through Resources; `api`: a Manila API target
    (the live tier, certkit.explore.live)."""

    def chosen_seed(self) -> int:
        return self.seed if self.seed is not None else random.SystemRandom().randrange(2 ** 32)
