"""`certkit lab up zuul --gerrit ssh://USER@HOST:PORT --gerrit-key FILE`: the Gerrit option."""

from __future__ import annotations

import re
from pathlib import Path

from certkit.lab.processes import LabError
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
