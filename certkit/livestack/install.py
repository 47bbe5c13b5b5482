"""What the lab needs installed: Debian's MariaDB (or PostgreSQL) and RabbitMQ, the Manila
services and tempest in certkit's own venv, Keystone in a venv of its own.

Why this split: manila-api/-scheduler/-share run from certkit's venv, so the live tier runs the
very Manila (and driver code) the in-process harness imports, and the API suite uses that venv's
tempest.lib. Keystone pins its own oslo/SQLAlchemy versions; it gets a cached venv
($CERTKIT_KEYSTONE_VENV, default ~/.cache/certkit/keystone-venv) that `lab down` keeps, so a warm
`lab up` installs nothing.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Callable

from certkit import pyinstall
from certkit.errors import CertkitError

DEBIAN_PACKAGES = {"rabbitmq-server": "/usr/lib/rabbitmq/bin/rabbitmq-server"}
DATABASE_PACKAGES = {"mariadb": {"mariadb-server": "/usr/sbin/mariadbd"},
                     "postgresql": {"postgresql": "/usr/lib/postgresql"}}
# Same list as the live tier's dependencies in pyproject.toml (module to import: distribution).
PYTHON_PACKAGES = {"tempest": "tempest", "manila_tempest_tests": "manila-tempest-plugin",
                   "gunicorn": "gunicorn", "psycopg2": "psycopg2-binary", "pymysql": "PyMySQL"}
KEYSTONE_PACKAGES = ("keystone", "gunicorn", "psycopg2-binary", "PyMySQL")
"""Keystone's venv: the server and its WSGI server first, then the database drivers."""
PLUGIN_FOR_MANILA = {18: "2.2.0", 19: "2.5.0", 20: "2.7.0", 21: "2.9.0", 22: "3.0.0", 23: "3.2.0"}
"""manila-tempest-plugin (branchless) releases one per cycle, in the weeks before Manila's
x.0.0 (PyPI upload dates: 3.2.0 on 2026-09-17 between Manila 23.0.0rc1 and 23.0.0; 3.0.0 on
2026-03-19 before 22.0.0; 2.9.0, 2.7.0, 2.5.0, 2.2.0 before 21, 20, 19, 18). The lab runs that
release of the installed Manila's cycle, or a newer one: the plugin's tests follow Manila's API
(an older plugin expects answers Manila has since changed)."""


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


def ensure_debian_packages(progress: Callable[[str], None], db: str = "mariadb") -> None:
    """apt-get install what is missing (root only; waits for other installers' lock)."""
    wanted = {**DEBIAN_PACKAGES, **DATABASE_PACKAGES[db]}
    missing = [pkg for pkg, marker in wanted.items() if not Path(marker).exists()]
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
    """Install tempest, the plugin, gunicorn and psycopg2 into this venv when missing or
    half-installed, and Keystone into its own (certkit/pyinstall.py: uv, else pip)."""
    site = Path(sysconfig.get_paths()["purelib"])
    missing = [dist for module, dist in PYTHON_PACKAGES.items()
               if importlib.util.find_spec(module) is None or not _drop_if_half_installed(site, dist)]
    if missing:
        progress(f"installing {', '.join(missing)} into {sys.prefix}")
        pyinstall.install(sys.executable, missing, what="lab manila", progress=progress)
        importlib.invalidate_caches()
        still = [m for m in PYTHON_PACKAGES if importlib.util.find_spec(m) is None]
        if still:
            raise CertkitError(f"lab manila: the install reported success but {', '.join(still)} "
                               "cannot be imported")
    venv = keystone_venv()
    if not keystone_venv_complete(venv):
        progress(f"installing Keystone into {venv}"
                 + (": the one there is half-installed (an earlier `up` was killed during its install)"
                    if venv.exists() else ""))
        venv.parent.mkdir(parents=True, exist_ok=True)
        python = pyinstall.create_venv(venv, sys.executable, what="lab manila (Keystone's venv)",
                                       progress=progress)
        pyinstall.install(python, KEYSTONE_PACKAGES, what="lab manila (Keystone's venv)",
                          progress=progress)
        if not (venv / "bin" / "keystone-manage").exists():
            raise CertkitError(f"lab manila: {venv}/bin/keystone-manage missing after the install")
    else:  # a venv cached before a driver was added (PyMySQL came with MariaDB), or half-added
        site = next(venv.glob("lib/python*/site-packages"))
        extras = [d for d in KEYSTONE_PACKAGES[2:] if not _drop_if_half_installed(site, d)]
        if extras:
            progress(f"installing {', '.join(extras)} into {venv}")
            pyinstall.install(venv / "bin" / "python", extras, what="lab manila (Keystone's venv)",
                              progress=progress)


def _dist_infos(site: Path, dist: str) -> list[Path]:
    """The `*.dist-info` directories of distribution `dist` in the site-packages `site`."""
    wanted = re.sub(r"[-_.]+", "_", dist).lower()
    return [d for d in site.glob("*.dist-info")
            if re.sub(r"[-_.]+", "_", d.name[:-len(".dist-info")].rsplit("-", 1)[0]).lower() == wanted]


def installed_completely(site: Path, dist: str) -> bool:
    """Whether pip finished installing `dist` into the site-packages `site`: its dist-info has
    its RECORD, which pip writes last (after the files and the other metadata). A pip killed
    half-way (a SIGKILLed `lab up`) leaves the package's files, scripts included, without it;
    and pip installs dependencies before what needs them, so a complete RECORD of the package
    asked for means its dependencies were installed too."""
    return any((d / "RECORD").is_file() for d in _dist_infos(site, dist))


def keystone_venv_complete(venv: Path) -> bool:
    """Whether Keystone and gunicorn were installed into its venv to the end (not only their
    scripts written: those exist half-way through pip). The database drivers are added to a
    complete venv without remaking it (another lab's Keystone may run from it)."""
    sites = list(venv.glob("lib/python*/site-packages"))
    return (venv / "bin" / "keystone-manage").exists() and len(sites) == 1 and all(
        installed_completely(sites[0], dist) for dist in KEYSTONE_PACKAGES[:2])


def _drop_if_half_installed(site: Path, dist: str) -> bool:
    """True when `dist` is completely installed; else its RECORD-less dist-info directories
    are removed (pip would take them for an installed package and skip it) and False."""
    if installed_completely(site, dist):
        return True
    for info in _dist_infos(site, dist):
        shutil.rmtree(info)
    return False


def plugin_release_for(manila_version: str) -> str | None:
    """The manila-tempest-plugin release of a Manila version's cycle (the newest known for a
    newer Manila; None for one older than the table)."""
    major = int(manila_version.split(".")[0])
    if major < min(PLUGIN_FOR_MANILA):
        return None
    return PLUGIN_FOR_MANILA[min(major, max(PLUGIN_FOR_MANILA))]


def ensure_plugin_release(progress: Callable[[str], None]) -> None:
    """Upgrade manila-tempest-plugin in this venv (where `tempest run` loads it from) when it
    is older than the release of the installed Manila's cycle."""
    from importlib import metadata

    from packaging.version import Version

    wanted = plugin_release_for(metadata.version("manila"))
    try:
        have = metadata.version("manila-tempest-plugin")
    except metadata.PackageNotFoundError:
        have = "0"
    if wanted is None or Version(have) >= Version(wanted):
        return
    progress(f"manila-tempest-plugin {have} predates Manila {metadata.version('manila')}: "
             f"installing >={wanted} into {sys.prefix}")
    pyinstall.install(sys.executable, [f"manila-tempest-plugin>={wanted}"],
                      what="lab manila (manila-tempest-plugin)", progress=progress)


def ensure_installed(progress: Callable[[str], None], db: str = "mariadb") -> None:
    """Everything the lab runs on the `db` server, installed (a no-op when warm)."""
    ensure_debian_packages(progress, db)
    ensure_python_packages(progress)
    ensure_plugin_release(progress)
