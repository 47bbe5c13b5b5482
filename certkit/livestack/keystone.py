"""Keystone for the lab: its own venv, PostgreSQL, fernet keys, served by gunicorn."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from certkit.errors import CertkitError
from certkit.harness.config import render_conf
from certkit.livestack import database
from certkit.livestack.install import keystone_venv
from certkit.livestack.procs import ProcessTable, gunicorn_args, wait_until
from certkit.livestack.state import LabState
from certkit.files import atomic_write

REGION = "RegionOne"
WSGI_WRAPPER = '''"""Keystone under gunicorn: its WSGI module parses sys.argv as oslo.config options."""
import sys
sys.argv = ["keystone"]
from keystone.wsgi.api import application  # noqa: E402,F401
'''


def _conf_path(root: Path) -> Path:
    return root / "keystone" / "keystone.conf"


def write_conf(root: Path, state: LabState) -> Path:
    """keystone.conf (0600: it names the database)."""
    base = root / "keystone"
    for sub in ("fernet-keys", "credential-keys"):
        (base / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    text = render_conf({
        "DEFAULT": {"log_file": str(root / "logs" / "keystone-app.log")},
        "database": {"connection": database.url(state, "keystone")},
        "token": {"provider": "fernet"},
        "fernet_tokens": {"key_repository": str(base / "fernet-keys")},
        "credential": {"key_repository": str(base / "credential-keys")},
        # bcrypt at its cheapest cost: tempest creates a user and logs in for every test class,
        # and at the default cost (12) Keystone's hashing was the busiest process of a tempest
        # run. The lab's users are throwaway accounts on loopback.
        "identity": {"password_hash_rounds": 4},
    }, str(_conf_path(root)))
    atomic_write(_conf_path(root), text)
    return _conf_path(root)


def _manage(root: Path, *args: str) -> None:
    exe = keystone_venv() / "bin" / "keystone-manage"
    proc = subprocess.run([str(exe), "--config-file", str(_conf_path(root)), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        raise CertkitError(f"lab manila: keystone-manage {args[0]} failed: "
                           f"{lines[-1] if lines else 'no output'}")


def _bootstrap(root: Path, state: LabState) -> None:
    """keystone-manage bootstrap: the admin user, project, role and identity endpoints."""
    # The password goes through the environment, not argv (argv is world-readable).
    env = {**os.environ, "OS_BOOTSTRAP_PASSWORD": state.passwords["admin"]}
    exe = keystone_venv() / "bin" / "keystone-manage"
    proc = subprocess.run([str(exe), "--config-file", str(_conf_path(root)), "bootstrap",
                           "--bootstrap-username", "admin", "--bootstrap-project-name", "admin",
                           "--bootstrap-role-name", "admin",
                           "--bootstrap-admin-url", state.auth_url,
                           "--bootstrap-public-url", state.auth_url,
                           "--bootstrap-internal-url", state.auth_url,
                           "--bootstrap-region-id", REGION],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise CertkitError("lab manila: keystone-manage bootstrap failed: "
                           + (proc.stdout.strip().splitlines() or ["no output"])[-1])


def start_keystone(root: Path, state: LabState, table: ProcessTable) -> None:
    """db_sync, keys, bootstrap (admin) once; then gunicorn on 127.0.0.1:<port>."""
    if table.running("keystone"):
        return
    write_conf(root, state)
    marker = root / "keystone" / "bootstrapped"
    if not marker.exists():
        # Never bootstrapped: the database holds at most a killed `up`'s half-applied
        # migrations (MariaDB's DDL is not transactional), so it starts empty.
        database.recreate(state, "keystone")
        _manage(root, "db_sync")
        _manage(root, "fernet_setup", "--keystone-user", str(os.getuid()),
                "--keystone-group", str(os.getgid()))
        _manage(root, "credential_setup", "--keystone-user", str(os.getuid()),
                "--keystone-group", str(os.getgid()))
    # The marker holds the URL bootstrap registered: after a port change (recovery) bootstrap
    # runs again and moves the identity endpoints to the new port.
    if not marker.exists() or marker.read_text() != state.auth_url:
        _bootstrap(root, state)
        marker.write_text(state.auth_url)
    venv = keystone_venv()
    env = {"PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
           "OS_KEYSTONE_CONFIG_FILES": str(_conf_path(root))}
    (root / "keystone" / "keystone_wsgi.py").write_text(WSGI_WRAPPER)
    table.spawn("keystone", [str(venv / "bin" / "gunicorn"), *gunicorn_args(state.ports["keystone"], root / "keystone"),
                             "--pythonpath", str(root / "keystone"), "keystone_wsgi:application"],
                env=env)
    wait_until(lambda: _answers(state.auth_url), 90, "serve /v3", table, "keystone")


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
