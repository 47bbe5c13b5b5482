"""The build node's package mirror: what a Zuul operator runs beside the nodes (OpenDev's
per-region PyPI mirror, which its `configure-mirrors` role points pip at), reduced to what
certkit's jobs install.

The node's namespace has no route off this machine, so the lab serves a PEP 503 "simple"
index on the node side of its veth pair (the host end, e.g. http://10.252.0.1:PORT/simple/).
Its content is every distribution of the certkit venv the lab runs from (`pip freeze --all`: the exact
versions, setuptools for the editable build included), built once as wheels into a
cache outside any work tree, keyed by the frozen list. They are built by the certkit venv's own
pip, whose interpreter must have the node python's minor version (the cp3XY wheel tag): the
node runs the machine's python3, as the lab does. A `.certkit-complete` marker is written
last, so an interrupted build is started over rather than served."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from certkit.lab.commands import say
from certkit.lab.processes import LabError

MARKER = ".certkit-complete"
_NAME = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*?)-\d")


def frozen_requirements(python: str = sys.executable) -> list[str]:
    """`name==version` of every distribution in the venv of `python`, certkit itself excluded
    (it is installed from the job's checkout)."""
    proc = subprocess.run([python, "-m", "pip", "freeze", "--all", "--exclude-editable",
                           "--disable-pip-version-check"], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise LabError(f"pip freeze ({python}) failed: {proc.stderr.strip()[-300:]}")
    lines = [line.strip() for line in proc.stdout.splitlines()
             if line.strip() and not line.startswith(("#", "-e ")) and "==" in line]
    return sorted({line for line in lines if not line.lower().startswith("certkit==")})


def cache_dir(requirements: list[str]) -> Path:
    """CERTKIT_ZUUL_WHEELHOUSE, else /var/cache/certkit/zuul-wheelhouse-<hash of the list>."""
    explicit = os.environ.get("CERTKIT_ZUUL_WHEELHOUSE")
    if explicit:
        return Path(explicit)
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    return Path(f"/var/cache/certkit/zuul-wheelhouse-{digest}")


def normalized(name: str) -> str:
    """PEP 503's normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def ensure(log: Path) -> Path:
    """The mirror's root directory (holding simple/<project>/<wheel>), built when absent."""
    requirements = frozen_requirements()
    root = cache_dir(requirements)
    if (root / MARKER).is_file():
        return root
    t0 = time.monotonic()
    say(f"node mirror: building wheels of {len(requirements)} distributions into {root} (once)")
    if root.exists():
        shutil.rmtree(root)
    wheels = root / "wheels"
    wheels.mkdir(parents=True)
    (root / "requirements.txt").write_text("\n".join(requirements) + "\n")
    with open(log, "a") as out:
        # pip wheel (not download): sdists are built here once, so the node never needs a compiler
        # or a build backend beyond setuptools; pip's cache makes the rebuild of a list cheap.
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
                               "--no-deps", "-w", str(wheels), "-r", str(root / "requirements.txt")],
                              stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise LabError(f"node mirror: pip wheel failed; see {log}")
    index(root)
    (root / MARKER).write_text("\n".join(requirements) + "\n")
    say(f"node mirror: {len(list(wheels.glob('*.whl')))} wheels in {time.monotonic() - t0:.0f} s")
    return root


def index(root: Path) -> None:
    """simple/<normalized name>/ with each wheel hard-linked in: a PEP 503 index that any static
    file server serves (its directory listing is the project page pip reads)."""
    simple = root / "simple"
    shutil.rmtree(simple, ignore_errors=True)
    for wheel in sorted((root / "wheels").glob("*.whl")):
        match = _NAME.match(wheel.name)
        if not match:
            raise LabError(f"node mirror: cannot tell the project of {wheel.name}")
        project = simple / normalized(match["name"])
        project.mkdir(parents=True, exist_ok=True)
        os.link(wheel, project / wheel.name)


__all__ = ["ensure", "frozen_requirements", "index"]
