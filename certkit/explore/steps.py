"""A step is data: a rule name and its arguments (JSON values). A step list is printable, and it
is saved as a replay file that `certkit replay` runs again, step by step, against a driver."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certkit.errors import CertkitError
from certkit.files import atomic_write

REPLAY_FORMAT = 1
REPLAY_KIND = "certkit-explore-replay"

FEATURE_OF_RULE = {
    "create_share": "share", "delete_share": "share", "write": "share", "fill": "share",
    "remount": "share", "grant": "share", "deny": "share", "change_access": "share",
    "snapshot": "snapshot", "delete_snapshot": "snapshot",
    "share_from_snapshot": "create_from_snapshot",
    "extend": "extend", "shrink": "shrink", "revert": "revert_to_snapshot",
    "restart": "ensure_shares", "grant_crowd": "share", "reapply": "share",
}
"""The catalogue feature each rule exercises (the verdict is given per feature)."""

RULES = tuple(FEATURE_OF_RULE)


@dataclass(frozen=True)
class Step:
    """One thing a user or the share manager did."""

    rule: str
    args: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.rule}({args})"

    def features(self) -> set[str]:
        """The features this step exercises (a ro rule also exercises access_ro)."""
        found = {FEATURE_OF_RULE[self.rule]}
        rules = [*self.args.get("rules", ()), *self.args.get("add", ())]
        if any(level == "ro" for _, level in rules) or self.args.get("level") == "ro":
            found.add("access_ro")
        return found

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "args": self.args}


def step_list(steps: list[Step]) -> str:
    """The steps, numbered, one a line (what a failure prints)."""
    return "\n".join(f"{n:>3}. {step}" for n, step in enumerate(steps, 1))


def features_of(steps: list[Step]) -> set[str]:
    """Every feature a step list exercises."""
    return set().union(*(s.features() for s in steps)) if steps else set()


def write_replay(path: Path, steps: list[Step], *, profile: str, driver: str, seed: int | None,
                 failure: str) -> None:
    """Save a counterexample as a replay file (JSON)."""
    data = {"format": REPLAY_FORMAT, "kind": REPLAY_KIND, "profile": profile, "driver": driver,
            "seed": seed, "failure": failure, "features": sorted(features_of(steps)),
            "steps": [s.to_json() for s in steps]}
    atomic_write(path, json.dumps(data, indent=2) + "\n")


def read_replay(path: str | Path) -> tuple[list[Step], dict[str, Any]]:
    """The steps of a replay file and its other fields; a one-line error naming the file and
    the field when it is not one."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise CertkitError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CertkitError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != REPLAY_KIND:
        raise CertkitError(f"{path}: kind: not a certkit replay file (expected {REPLAY_KIND!r})")
    if data.get("format") != REPLAY_FORMAT:
        raise CertkitError(f"{path}: format: {data.get('format')!r} is not supported "
                           f"(this certkit reads format {REPLAY_FORMAT})")
    raw = data.get("steps")
    if not isinstance(raw, list) or not raw:
        raise CertkitError(f"{path}: steps: expected a non-empty list")
    steps = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("rule") not in FEATURE_OF_RULE \
                or not isinstance(item.get("args", {}), dict):
            rule = item.get("rule") if isinstance(item, dict) else item
            raise CertkitError(f"{path}: steps[{n}]: unknown rule {rule!r} "
                               f"(known: {', '.join(RULES)})")
        steps.append(Step(item["rule"], dict(item.get("args") or {})))
    from certkit.explore.stepcheck import check_steps

    check_steps(str(path), raw)
    return steps, data
