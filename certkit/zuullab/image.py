"""The build node's image: certkit's dependencies baked into a venv in the node's login
directory, as an operator's image build (diskimage-builder, a Packer template) bakes a
project's dependencies into its nodes, so that no build has to make them.

The venv is keyed like ci/playbooks/prepare.yaml keys it (the first 16 hex digits of the
sha256 of pyproject.toml then setup.py of the certkit the lab serves to Zuul), made by uv from
the wheels the node's mirror serves (the frozen list, --no-deps: every distribution at the
version the mirror holds, read from its directory as an image builder reads a local
repository) inside the node's mount namespace, with the interpreter a node's SSH session finds. certkit
itself is not in it: prepare.yaml installs the build's checkout editable into it (seconds), and
a change to either key file gets a new venv by `make venv` from the mirror, as before. A marker
written last means an interrupted bake is started over, never used.

uv's cache for the bake is kept beside the mirror's wheelhouse (`<wheelhouse>-uv`, the same
key), as an operator's image builder keeps its package cache between builds: the first `up`
unpacks every wheel once, a later `up` links them from the cache (seconds, not a minute). The
wheels are read from the wheelhouse's directory, not through the mirror's URL, whose port
changes with every lab (uv keys its cache by index URL, so it would never hit)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from pathlib import Path

from certkit.lab.commands import say
from certkit.lab.processes import LabError
from certkit.zuullab import venv

KEY_FILES = ("pyproject.toml", "setup.py")
MARKER = ".certkit-image"
SSH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # OpenSSH's default PATH


def venv_key(source: Path) -> str:
    """prepare.yaml's key: `cat pyproject.toml setup.py | sha256sum | cut -c1-16`."""
    return hashlib.sha256(b"".join((source / name).read_bytes() for name in KEY_FILES)).hexdigest()[:16]


def uv_cache(wheelhouse: Path) -> Path:
    """uv's cache for the bake: beside the wheelhouse it installs from, and keyed like it."""
    return wheelhouse.with_name(wheelhouse.name + "-uv")


def bake(node_home: Path, sshd_pid: int, source: Path, wheelhouse: Path, log: Path) -> Path:
    """The image's venv under node_home (made when absent); its path as the node sees it."""
    relative = Path(".cache") / "certkit-venvs" / venv_key(source)
    seen = Path("/root") / relative  # node_home is the node's /root
    if (node_home / relative / MARKER).is_file() or (node_home / relative / "bin" / "certkit").exists():
        return seen  # baked before, or made by a build's `make venv` (a lab up again): in use
    python = shutil.which("python3", path=SSH_PATH)
    if python is None:
        raise LabError(f"node image: no python3 on the node's PATH ({SSH_PATH})")
    t0 = time.monotonic()
    shutil.rmtree(node_home / relative, ignore_errors=True)
    requirements = wheelhouse / "requirements.txt"
    # The node's mount namespace (its /root is node_home; the wheelhouse and the cache are seen
    # as on the machine). Copied from the cache, not hard-linked: /root is a bind mount there
    # (no links across it), and the image shares no inode with the cache.
    inside = ["nsenter", "--target", str(sshd_pid), "--mount", "--", "env",
              f"UV_CACHE_DIR={uv_cache(wheelhouse)}", "UV_LINK_MODE=copy"]
    uv = venv.uv_binary()
    with open(log, "a") as out:
        for argv, what in (
                ([uv, "venv", "-q", "--seed", "--python", python, str(seen)], "creating the venv"),
                ([uv, "pip", "install", "-q", "--python", str(seen / "bin" / "python"), "--no-deps",
                  "--no-index", "--find-links", str(wheelhouse / "wheels"), "-r", str(requirements)],
                 "installing the mirror's wheels")):
            if subprocess.run([*inside, *argv], stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                out.flush()
                last = (log.read_text(errors="replace").strip().splitlines() or ["no output"])[-1]
                raise LabError(f"node image: {what} failed ({last[:200]}); see {log}")
    (node_home / relative / MARKER).write_text(f"{venv_key(source)}\n")
    say(f"node image: certkit's dependencies in {seen} ({time.monotonic() - t0:.0f} s)")
    return seen


__all__ = ["bake", "uv_cache", "venv_key"]
