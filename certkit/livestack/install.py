"""What the lab needs installed: Debian's PostgreSQL and RabbitMQ, the Manila services and
tempest in certkit's own venv, Keystone in a venv of its own.

Why this split: manila-api/-scheduler/-share run from certkit's venv, so the live tier runs the
very Manila (and driver code) the in-process harness imports, and the API suite uses that venv's
tempest.lib. Keystone pins its own oslo/SQLAlchemy versions; it gets a cached venv
($CERTKIT_KEYSTONE_VENV, default ~/.cache/certkit/keystone-venv) that `lab down` keeps, so a warm
`lab up` installs nothing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

from certkit.errors import CertkitError

DEBIAN_PACKAGES = {"postgresql": "/usr/lib/postgresql", "rabbitmq-server": "/usr/lib/rabbitmq/bin/rabbitmq-server"}
# Same list as the `live` extra in pyproject.toml (module to import: distribution to install).
PYTHON_PACKAGES = {"tempest": "tempest", "manila_tempest_tests": "manila-tempest-plugin",
                   "gunicorn": "gunicorn", "psycopg2": "psycopg2-binary"}
KEYSTONE_PACKAGES = ("keystone", "gunicorn", "psycopg2-binary")


def keystone_venv() -> Path:
    """The cached venv Keystone runs from."""
    default = Path.home() / ".cache" / "certkit" / "keystone-venv"
    return Path(os.environ.get("CERTKIT_KEYSTONE_VENV") or default)


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin directory."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not versions:
        raise CertkitError("PostgreSQL is not installed (apt-get install postgresql)")
    return versions[-1].parent


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stdout.splitlines()
                 if ln.strip() and not ln.startswith("WARNING: Location")]
        raise CertkitError(f"lab manila: {what} failed: {lines[-1] if lines else 'no output'}")


def ensure_debian_packages(progress: Callable[[str], None]) -> None:
    """apt-get install what is missing (root only; waits for other installers' lock)."""
    missing = [pkg for pkg, marker in DEBIAN_PACKAGES.items() if not Path(marker).exists()]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise CertkitError(f"the manila lab needs Debian packages {', '.join(missing)}: "
                           f"install them as root (apt-get install {' '.join(missing)})")
    progress(f"installing {', '.join(missing)} (apt)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    argv = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q",
            "--no-install-recommends", *missing]
    try:
        _run(argv, f"apt-get install {' '.join(missing)}", env)
    except CertkitError:
        _run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "update", "-q"], "apt-get update", env)
        _run(argv, f"apt-get install {' '.join(missing)}", env)


def ensure_python_packages(progress: Callable[[str], None]) -> None:
    """pip install tempest, the plugin, gunicorn and psycopg2 into this venv when missing."""
    missing = [dist for module, dist in PYTHON_PACKAGES.items()
               if importlib.util.find_spec(module) is None]
    if missing:
        progress(f"installing {', '.join(missing)} into {sys.prefix} (pip)")
        _run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", *missing],
             f"pip install {' '.join(missing)}")
        importlib.invalidate_caches()
        still = [m for m in PYTHON_PACKAGES if importlib.util.find_spec(m) is None]
        if still:
            raise CertkitError(f"lab manila: pip reported success but {', '.join(still)} "
                               "cannot be imported")
    venv = keystone_venv()
    if not (venv / "bin" / "keystone-manage").exists() or not (venv / "bin" / "gunicorn").exists():
        progress(f"installing Keystone into {venv} (pip, about 30 s)")
        venv.parent.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "venv", "--clear", str(venv)], f"python -m venv {venv}")
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
              "--disable-pip-version-check", *KEYSTONE_PACKAGES], "pip install keystone")
        if not (venv / "bin" / "keystone-manage").exists():
            raise CertkitError(f"lab manila: {venv}/bin/keystone-manage missing after pip install")


def ensure_installed(progress: Callable[[str], None]) -> None:
    """Everything the lab runs, installed (a no-op when warm)."""
    ensure_debian_packages(progress)
    ensure_python_packages(progress)
