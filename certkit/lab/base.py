"""What every lab kind offers the `certkit lab` command, and where a lab keeps its files.

A lab kind (cephfs here; others live in their own packages) subclasses `Lab` and is named in
the command's table. Its directory is CERTKIT_LAB_DIR, else the one its running instance
recorded under /run/certkit/labs/ (so `down` finds it from any directory), else ./lab/<name>.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path

RECORDS = Path("/run/certkit/labs")


class Lab(ABC):
    """One kind of lab on this machine: bring it up, check it, describe it, tear it down."""

    name: str = ""

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = (directory or self.default_dir()).resolve()

    @classmethod
    def default_dir(cls) -> Path:
        """CERTKIT_LAB_DIR, the directory of the running lab, or ./lab/<name>."""
        if os.environ.get("CERTKIT_LAB_DIR"):
            return Path(os.environ["CERTKIT_LAB_DIR"])
        try:
            recorded = Path(json.loads((RECORDS / f"{cls.name}.json").read_text())["dir"])
            if recorded.is_dir():
                return recorded
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return Path("lab") / cls.name

    def record(self) -> None:
        """Note where the running lab lives (for `down`/`env` from another directory)."""
        RECORDS.mkdir(parents=True, exist_ok=True)
        (RECORDS / f"{self.name}.json").write_text(json.dumps({"dir": str(self.dir)}))

    def forget(self) -> None:
        """Remove the record written by `record`."""
        (RECORDS / f"{self.name}.json").unlink(missing_ok=True)

    @abstractmethod
    def can_run(self) -> str | None:
        """Why the lab cannot run on this machine (None when it can)."""

    @abstractmethod
    def up(self) -> None:
        """Bring the lab up; on a running lab, only check it."""

    @abstractmethod
    def down(self) -> None:
        """Stop every process and wait until each has exited, then remove everything `up`
        created; raise when something survives. Safe to run twice."""

    @abstractmethod
    def status(self) -> bool:
        """Print one line about the lab; True when it is healthy."""

    @abstractmethod
    def env(self) -> dict[str, str]:
        """Environment variables a profile reads to reach the lab."""
