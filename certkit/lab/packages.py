"""Debian packages a lab needs: install only what is missing, log into the lab directory."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Sequence

from certkit.lab.commands import say
from certkit.lab.processes import LabError

APT = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]


def missing(packages: Sequence[str]) -> list[str]:
    """The packages dpkg does not list as installed."""
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Status}\n", *packages],
                          capture_output=True, text=True)
    installed = {line.split()[0] for line in proc.stdout.splitlines()
                 if line.endswith("ok installed")}
    return [p for p in packages if p not in installed]


def ensure(packages: Sequence[str], log: Path) -> list[str]:
    """Install what is missing (apt-get update only when a package is not found); the list
    installed. The apt output goes to `log`, which the lab's `down` removes."""
    needed = missing(packages)
    if not needed:
        return []
    if os.geteuid() != 0:
        raise LabError(f"need root to install {' '.join(needed)}")
    say(f"packages: installing {' '.join(needed)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*APT, "install", "-y", "-q", "--no-install-recommends", *needed]
    with open(log, "a") as out:
        if subprocess.run(install, stdout=out, stderr=subprocess.STDOUT, env=env).returncode != 0:
            subprocess.run([*APT, "update", "-q"], stdout=out, stderr=subprocess.STDOUT, env=env)
            if subprocess.run(install, stdout=out, stderr=subprocess.STDOUT, env=env).returncode != 0:
                raise LabError(f"apt-get install failed; see {log}")
    still = missing(needed)
    if still:
        raise LabError(f"apt-get did not install {' '.join(still)}; see {log}")
    return needed
