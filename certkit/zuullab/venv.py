"""Zuul's own venv (Zuul 14 from PyPI and its ~270 packages, kept apart from certkit's) and the
Ansible installations its executor runs, built once into a cache outside any work tree.

The build is pinned (zuul-requirements.txt, every package at the version Zuul 14.3.0 resolved
to) and installed with --no-deps, so it needs no dependency resolution. The Ansible venvs are
what `zuul-manage-ansible` makes (one per version in Zuul's own ansible-config.conf, each with
that version's and the common requirements), made the same way but by uv: pip took minutes
for them (Zuul runs it with --no-cache-dir), uv about a minute cold (docs/zuul/lab.md). A
`.certkit-complete` marker is written last, so an interrupted build is started over rather
than used.

Every module is compiled to bytecode once, after the build (`.certkit-bytecode` marks it done;
a venv built before this is compiled at its next `up`). uv, unlike pip, does not compile at
install, and where PYTHONDONTWRITEBYTECODE is set (it is on the shared machine) or the venv is
read-only (bubblewrap binds Ansible's in read-only), Python never writes the bytecode itself:
every daemon start and every `ansible-playbook` of every build compiled its thousands of
imported modules again (docs/zuul/lab.md, "What the end to end costs")."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import time
from pathlib import Path

from certkit import pyinstall
from certkit.lab.commands import say
from certkit.lab.processes import LabError

ZUUL_VERSION = "14.3.0"
REQUIREMENTS = Path(__file__).with_name("zuul-requirements.txt")
MARKER = ".certkit-complete"
BYTECODE = ".certkit-bytecode"


def venv_dir() -> Path:
    """CERTKIT_ZUUL_VENV, else /var/cache/certkit/zuul-venv-<version>."""
    return Path(os.environ.get("CERTKIT_ZUUL_VENV",
                               f"/var/cache/certkit/zuul-venv-{ZUUL_VERSION}"))


def ansible_root(venv: Path) -> Path:
    """Where the Ansible versions are (the executor's ansible_root)."""
    return venv / "ansible"


def is_built(venv: Path) -> bool:
    return (venv / MARKER).is_file() and (venv / "bin" / "zuul-scheduler").is_file()


def uv_binary() -> str:
    """uv (certkit/pyinstall.py finds it), or a one-line LabError."""
    found = pyinstall.uv_binary()
    if not found:
        raise LabError("zuul venv: uv is missing (a dependency of certkit: run `make venv`)")
    return found


def ansible_requirements(venv: Path) -> dict[str, list[str]]:
    """{Ansible version: its requirements}, from the installed Zuul's ansible-config.conf, as
    zuul-manage-ansible reads it (the version's requirements, then the common ones)."""
    found = sorted(venv.glob("lib/python3*/site-packages/zuul/lib/ansible-config.conf"))
    if not found:
        raise LabError(f"zuul venv: no zuul/lib/ansible-config.conf under {venv}")
    conf = configparser.ConfigParser()
    conf.read(found[0])
    common = conf.get("common", "requirements", fallback="").split()
    return {version: [*conf.get(version, "requirements").split(), *common]
            for version in conf.sections() if version != "common"}


def ensure(log: Path) -> Path:
    """The venv, built when absent and compiled to bytecode when not yet (progress lines on
    stderr; uv's and compileall's output in `log`)."""
    venv = venv_dir()
    if not is_built(venv):
        build(venv, log)
    if not (venv / BYTECODE).is_file():
        compile_bytecode(venv, log)
    return venv


def compile_bytecode(venv: Path, log: Path) -> None:
    """compileall over Zuul's venv and its Ansible venvs, on every core, once. The Ansible
    collections (two thirds of the 55,000 files) are left out: their modules are sent to the
    node, not imported on the executor; Ansible itself and its libraries are compiled."""
    t0 = time.monotonic()
    say("zuul venv: compiling its modules to bytecode (once)")
    with open(log, "a") as out:
        # The exit status is 1 when any file fails to compile (test data, templates named .py):
        # those are never imported; the marker is written anyway.
        subprocess.run([str(venv / "bin" / "python"), "-m", "compileall", "-q", "-j", "0",
                        "-x", "/ansible_collections/", str(venv / "lib"), str(ansible_root(venv))],
                       stdout=out, stderr=subprocess.STDOUT)
    (venv / BYTECODE).write_text(f"zuul {ZUUL_VERSION}\n")
    say(f"zuul venv: bytecode compiled in {time.monotonic() - t0:.0f} s")


def build(venv: Path, log: Path) -> None:
    """Zuul's venv and its Ansible venvs, by uv from the pinned list."""
    t0 = time.monotonic()
    say(f"zuul venv: building Zuul {ZUUL_VERSION} into {venv} (once; about 2 minutes)")
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    python = os.environ.get("CERTKIT_ZUUL_PYTHON", "python3")
    uv = uv_binary()
    with open(log, "a") as out:
        def step(argv: list[str], what: str) -> None:
            if subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                raise LabError(f"zuul venv: {what} failed; see {log}")

        step([uv, "venv", "-q", "--seed", "--python", python, str(venv)], "creating the venv")
        say("zuul venv: installing Zuul and its pinned dependencies")
        step([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "--no-deps",
              "-r", str(REQUIREMENTS)], "uv pip install")
        say(f"zuul venv: installing Ansible for the executor ({time.monotonic() - t0:.0f} s so far)")
        installs = []
        for version, requirements in ansible_requirements(venv).items():
            target = ansible_root(venv) / version
            step([uv, "venv", "-q", "--seed", "--python", str(venv / "bin" / "python"), str(target)],
                 f"creating the Ansible {version} venv")
            installs.append((version, subprocess.Popen(
                [uv, "pip", "install", "-q", "--python", str(target / "bin" / "python"), *requirements],
                stdout=out, stderr=subprocess.STDOUT)))
        failed = [version for version, proc in installs if proc.wait() != 0]
        if failed:
            raise LabError(f"zuul venv: installing Ansible {', '.join(failed)} failed; see {log}")
    (venv / MARKER).write_text(f"zuul {ZUUL_VERSION}\n")
    say(f"zuul venv: ready in {time.monotonic() - t0:.0f} s")


def bin_path(venv: Path) -> str:
    """PATH for Zuul's services: its venv first (zuul-bwrap and friends), then the system's."""
    return f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"


__all__ = ["ZUUL_VERSION", "ansible_requirements", "ansible_root", "bin_path", "build",
           "compile_bytecode", "ensure", "is_built", "uv_binary", "venv_dir"]
