"""`certkit lab up|down|status|env zuul [--gerrit ssh://USER@HOST:PORT --gerrit-key FILE]`."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from certkit.lab.processes import LabError
from certkit.zuullab.lab import ZuulLab
from certkit.zuullab.state import GerritTarget

_GERRIT = re.compile(r"^ssh://(?P<user>[\w.-]+)@(?P<host>[\w.-]+|\[[0-9a-fA-F:]+\]):(?P<port>\d+)/?$")


def gerrit_target(url: str | None, key: str | None) -> GerritTarget | None:
    """--gerrit/--gerrit-key as a GerritTarget (None when neither is given)."""
    if url is None and key is None:
        return None
    if url is None or key is None:
        raise LabError("lab zuul: give both --gerrit ssh://USER@HOST:PORT and --gerrit-key FILE")
    match = _GERRIT.match(url)
    if not match:
        raise LabError(f"--gerrit: expected ssh://USER@HOST:PORT, got {url!r}")
    if not Path(key).is_file():
        raise LabError(f"--gerrit-key: {key}: no such file")
    return GerritTarget(host=match["host"].strip("[]"), port=int(match["port"]), user=match["user"],
                        key_file=str(Path(key).resolve()))


def lab_zuul(args: argparse.Namespace) -> int:
    lab = ZuulLab(gerrit=gerrit_target(getattr(args, "gerrit", None), getattr(args, "gerrit_key", None)))
    if args.action in ("up", "down"):
        reason = lab.can_run()
        if reason:
            raise LabError(reason)
    if args.action == "up":
        try:
            lab.up()
        except LabError as exc:
            raise LabError(f"lab up zuul failed: {exc} (then `certkit lab down zuul`)") from None
    elif args.action == "down":
        lab.down()
    elif args.action == "env":
        for key, value in lab.env().items():
            print(f"{key}={value}")
    else:
        return 0 if lab.status() else 1
    return 0
