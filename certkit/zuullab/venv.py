"""Zuul's own venv (Zuul 14 from PyPI and its ~270 packages, kept apart from certkit's) and the
Ansible installations its executor runs, built once into a cache outside any work tree.

The build is pinned (zuul-requirements.txt, every package at the version Zuul 14.3.0 resolved
to) and installed with --no-deps, so it needs no dependency resolution; a `.certkit-complete`
marker is written last, so an interrupted build is started over rather than used."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from certkit.lab.commands import say
from certkit.lab.processes import LabError

ZUUL_VERSION = "14.3.0"
REQUIREMENTS = Path(__file__).with_name("zuul-requirements.txt")
MARKER = ".certkit-complete"


def venv_dir() -> Path:
    """CERTKIT_ZUUL_VENV, else /var/cache/certkit/zuul-venv-<version>."""
    return Path(os.environ.get("CERTKIT_ZUUL_VENV",
                               f"/var/cache/certkit/zuul-venv-{ZUUL_VERSION}"))


def ansible_root(venv: Path) -> Path:
    """Where `zuul-manage-ansible` put the Ansible versions (the executor's ansible_root)."""
    return venv / "ansible"


def is_built(venv: Path) -> bool:
    return (venv / MARKER).is_file() and (venv / "bin" / "zuul-scheduler").is_file()


def ensure(log: Path) -> Path:
    """The venv, built when absent (progress lines on stderr; pip's output in `log`)."""
    venv = venv_dir()
    if is_built(venv):
        return venv
    t0 = time.monotonic()
    say(f"zuul venv: building Zuul {ZUUL_VERSION} into {venv} (once; several minutes)")
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    python = os.environ.get("CERTKIT_ZUUL_PYTHON", "python3")
    with open(log, "a") as out:
        def step(argv: list[str], what: str) -> None:
            if subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                raise LabError(f"zuul venv: {what} failed; see {log}")

        step([python, "-m", "venv", str(venv)], "creating the venv")
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
               "--disable-pip-version-check"]
        say("zuul venv: installing Zuul and its pinned dependencies")
        step([*pip, "--no-deps", "-r", str(REQUIREMENTS)], "pip install")
        say(f"zuul venv: installing Ansible for the executor ({time.monotonic() - t0:.0f} s so far)")
        step([str(venv / "bin" / "zuul-manage-ansible"), "-r", str(ansible_root(venv))],
             "zuul-manage-ansible")
    (venv / MARKER).write_text(f"zuul {ZUUL_VERSION}\n")
    say(f"zuul venv: ready in {time.monotonic() - t0:.0f} s")
    return venv


def bin_path(venv: Path) -> str:
    """PATH for Zuul's services: its venv first (zuul-bwrap and friends), then the system's."""
    return f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"


__all__ = ["ZUUL_VERSION", "ansible_root", "bin_path", "ensure", "is_built", "venv_dir"]
