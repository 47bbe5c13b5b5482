"""Install a Manila source tree (a Gerrit change) into a job's own Python environment.

The job environment is a venv layered on certkit's: its own site-packages comes first on
sys.path and holds the Manila under test; certkit's site-packages (certkit and every other
dependency) follows through a .pth file. Nothing is re-downloaded, and certkit's own venv is
left untouched, so concurrent builds of different changes do not interfere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from certkit.errors import CertkitError


def site_packages(prefix: Path) -> Path:
    """The purelib directory of a venv at prefix."""
    return Path(sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)}))


def create_layered_venv(target: Path) -> Path:
    """A venv whose site-packages falls back to this interpreter's; returns its python."""
    venv.EnvBuilder(with_pip=False, clear=True, symlinks=True).create(target)
    base = Path(sysconfig.get_path("purelib"))
    own = site_packages(target)
    own.mkdir(parents=True, exist_ok=True)
    # A line starting with "import" runs at start-up: addsitedir also processes the base's .pth
    # files (certkit's editable install), after the layered venv's own packages.
    (own / "zz-certkit-base.pth").write_text(f"import site; site.addsitedir({str(base)!r})\n")
    return target / "bin" / "python"


def install_manila(source: Path, target: Path, version: str | None = None) -> str:
    """pip-install the Manila tree at source into a new layered venv at target; its version."""
    if not (source / "manila").is_dir():
        raise CertkitError(f"{source}: not a Manila source tree (no manila/ package)")
    python = create_layered_venv(target)
    env = dict(os.environ)
    if version:
        env["PBR_VERSION"] = version  # pbr cannot derive a version from a shallow fetch
    command = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
               "--no-deps", "--no-build-isolation", "--no-compile",
               "--target", str(site_packages(target)), str(source)]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        lines = [line.strip() for line in proc.stderr.splitlines()
                 if line.strip().startswith("error:") and "subprocess-exited" not in line]
        lines = lines or [line for line in proc.stderr.splitlines() if line.strip()][-1:]
        raise CertkitError(f"{source}: pip install failed: {(lines or ['no output'])[0]}")
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m, manila, sys; "
                            "sys.stdout.write(m.version('manila') + ' ' + manila.__file__)"],
        capture_output=True, text=True, timeout=120)
    if probe.returncode != 0 or str(site_packages(target)) not in probe.stdout:
        raise CertkitError(f"{target}: the installed Manila is not the one imported "
                           f"({probe.stdout.strip() or probe.stderr.strip()[-200:]})")
    return probe.stdout.split()[0]
