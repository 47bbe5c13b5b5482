"""What every lab kind offers the `certkit lab` command, and where a lab keeps its files.

A lab kind (cephfs here; others live in their own packages) subclasses `Lab` and is named in
the command's table. Its directory is CERTKIT_LAB_DIR, else the one its running instance
recorded under /run/certkit/labs/ (so `down` finds it from any directory), else ./lab/<name>.

Rules every lab keeps (docs/labs/manila-live-tier.md, "Ports and recovery"):
- TCP ports come from `certkit.lab.ports` (one allocator: candidates held bound until all are
  chosen, no duplicates, no port in use); `Lab.ports` keeps them in <dir>/ports.json and
  re-checks each kept port at every `up` instead of trusting the file.
- A failed or killed `up` is finished by the next `up` (`recovers = True`: what failed is
  verified and redone), or the error says in its one line that `down` is needed
  (`recovers = False`, or a `NeedsDown` error).
- Every process carries the lab's tag (`certkit.lab.processes.tag_env`), so `down` stops even
  one whose pidfile was never written.
- A SIGINT or SIGTERM of `up` brings down what that `up` started (`certkit.lab.interrupt`), so
  `down` must work on a lab stopped at any step.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable, Iterable

from certkit.errors import CertkitError
from certkit.files import atomic_write
from certkit.lab import ports as lab_ports
from certkit.lab.processes import LabError

RECORDS = Path("/run/certkit/labs")


class NeedsDown(LabError):
    """A failed `up` that another `up` cannot finish: the message ends by naming `down`."""


def failure_line(kind: str, exc: CertkitError, recovers: bool) -> str:
    """The one line a failed `certkit lab up KIND` prints: what failed, then what to run."""
    if f"lab down {kind}" in str(exc):  # the error names the way out already
        return f"lab up {kind} failed: {exc}"
    if recovers and not isinstance(exc, NeedsDown):
        return (f"lab up {kind} failed: {exc} (`certkit lab up {kind}` again retries what failed; "
                f"`certkit lab down {kind}` starts afresh)")
    return f"lab up {kind} failed: {exc} (run `certkit lab down {kind}` before the next `up`)"


def mounts_under(directory: Path) -> list[str]:
    """Mount points below `directory` (a lab's FUSE and bind mounts), from /proc/mounts."""
    prefix = f"{directory}/"
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return [m for m in mounts if m.startswith(prefix)]


def root_and_debian(lab: str, uses: str, packages: str, installed: str) -> str | None:
    """Why a lab of Debian packages cannot run here: not root, or no apt-get to install
    `packages` (and `installed`, a file they bring, missing). None when it can."""
    if os.geteuid() != 0:
        return f"the {lab} lab needs root ({uses})"
    if not Path("/usr/bin/apt-get").exists() and not Path(installed).exists():
        return f"the {lab} lab needs Debian's {packages} (apt-get not found)"
    return None


class Lab(ABC):
    """One kind of lab on this machine: bring it up, check it, describe it, tear it down."""

    name: str = ""
    recovers: bool = False
    """Whether a failed or interrupted `up` is finished by the next `up` (else: `down` first)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = (directory or self.default_dir()).resolve()

    @classmethod
    def instance(cls) -> str:
        """The lab's name on this machine: its kind, for a kind that runs once per machine."""
        return cls.name

    @classmethod
    def record_file(cls) -> Path:
        """Where the running lab notes its directory."""
        return RECORDS / f"{cls.instance()}.json"

    @classmethod
    def default_dir(cls) -> Path:
        """CERTKIT_LAB_DIR, the directory of the running lab, or ./lab/<instance>."""
        if os.environ.get("CERTKIT_LAB_DIR"):
            return Path(os.environ["CERTKIT_LAB_DIR"])
        try:
            recorded = Path(json.loads(cls.record_file().read_text())["dir"])
            if recorded.is_dir():
                return recorded
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return Path("lab") / cls.instance()

    def record(self) -> None:
        """Note where the running lab lives (for `down`/`env` from another directory)."""
        RECORDS.mkdir(parents=True, exist_ok=True)
        self.record_file().write_text(json.dumps({"dir": str(self.dir)}))

    def forget(self) -> None:
        """Remove the record written by `record`."""
        self.record_file().unlink(missing_ok=True)

    def ports(self, names: Iterable[str], owned: Callable[[str], bool],
              choose: lab_ports.Chooser | None = None) -> dict[str, int]:
        """A TCP port for each name, kept in <dir>/ports.json across `up`s. A kept port is used
        again only when the lab's own service holds it (`owned(name)`) or it is free and
        distinct; any other is allocated afresh (with the missing ones) and the file rewritten."""
        path = self.dir / "ports.json"
        try:
            kept = {k: int(v) for k, v in json.loads(path.read_text()).items()}
        except (OSError, ValueError, TypeError, AttributeError):
            kept = {}
        wanted = list(names)
        kept = {k: v for k, v in kept.items() if k in wanted}
        for bad in lab_ports.conflicts(kept, owned):
            del kept[bad]
        fresh = lab_ports.allocate([n for n in wanted if n not in kept], kept, choose)
        chosen = {**kept, **fresh}
        if fresh:
            self.dir.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(chosen, indent=2) + "\n")
        return {n: chosen[n] for n in wanted}

    @abstractmethod
    def can_run(self) -> str | None:
        """Why the lab cannot run on this machine (None when it can)."""

    @abstractmethod
    def up(self) -> None:
        """Bring the lab up; on a running lab, only check it. On failure raise a LabError (a
        `NeedsDown` when another `up` cannot finish the job)."""

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
