"""manila.conf from the profile, and manila-api (gunicorn), -scheduler, -share, -data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from certkit.contract.catalogue import ANY_VALUE, FEATURES_BY_ID
from certkit.errors import CertkitError
from certkit.harness.config import render_conf
from certkit.harness.driver import config_group, config_sections
from certkit.livestack.backing import db_url, transport_url
from certkit.livestack.install import venv_bin
from certkit.livestack.procs import ProcessTable, gunicorn_args, wait_until
from certkit.livestack.state import LabState, write_private
from certkit.profile import Profile

HOST = "certkit-lab"
DATA_FEATURES = ("migration", "backup", "share_server_migration")
WSGI_WRAPPER = '''"""manila-api under gunicorn: Manila reads its config file from the command line."""
import sys
sys.argv = ["manila-api", "--config-file", {conf!r}]
from manila.wsgi.api import application  # noqa: E402,F401
'''


def backend_options(profile: Profile) -> tuple[str, dict[str, Any]]:
    """(manila.conf group, options) of the driver: the harness's group for the first DHSS mode."""
    group = config_group(profile, profile.dhss)
    return group, dict(config_sections(profile)[group])


def backend_name(profile: Profile) -> str:
    """The share_backend_name the share service reports."""
    return str(backend_options(profile)[1]["share_backend_name"])


def service_names(profile: Profile) -> list[str]:
    """The Manila services this profile needs, in start order (scheduler before share)."""
    names = ["manila-api", "manila-scheduler", "manila-share"]
    if any(profile.claims(f) for f in DATA_FEATURES):
        names.append("manila-data")
    return names


def manila_conf_text(root: Path, state: LabState, profile: Profile) -> str:
    """The whole manila.conf: lab plumbing plus the driver's group exactly as the harness builds it."""
    group, options = backend_options(profile)
    api_paste = Path(sys.prefix) / "etc" / "manila" / "api-paste.ini"
    sections: dict[str, dict[str, Any]] = {
        "DEFAULT": {
            "host": HOST, "my_ip": "127.0.0.1", "transport_url": transport_url(state),
            "auth_strategy": "keystone", "enabled_share_backends": group,
            "enabled_share_protocols": list(profile.protocols), "default_share_type": "default",
            "state_path": str(root / "manila" / "state"), "api_paste_config": str(api_paste),
            # The scheduler sees the back end's pools at once (no random start-up delay).
            "periodic_fuzzy_delay": 0, "debug": False, "use_stderr": True,
        },
        "database": {"connection": db_url(state, "manila")},
        "oslo_concurrency": {"lock_path": str(root / "manila" / "locks")},
        "keystone_authtoken": {
            "www_authenticate_uri": state.auth_url, "auth_url": state.auth_url,
            "auth_type": "password", "project_domain_id": "default", "user_domain_id": "default",
            "project_name": "service", "username": "manila", "password": state.passwords["manila"],
        },
        group: options,
    }
    return render_conf(sections, profile.path)


def write_manila_conf(root: Path, state: LabState, profile: Profile) -> tuple[Path, bool]:
    """Write manila.conf (0600); returns (path, whether it changed)."""
    base = root / "manila"
    for sub in ("state", "locks"):
        (base / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    path = base / "manila.conf"
    text = manila_conf_text(root, state, profile)
    old = path.read_text() if path.exists() else None
    if old != text:
        write_private(path, text)
    (base / "manila_api_wsgi.py").write_text(WSGI_WRAPPER.format(conf=str(path)))
    return path, old != text


def db_sync(conf: Path) -> None:
    """manila-manage db sync: Manila's real migrations."""
    proc = subprocess.run([str(venv_bin() / "manila-manage"), "--config-file", str(conf), "db", "sync"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        raise CertkitError(f"lab manila: manila-manage db sync failed: {lines[-1] if lines else 'no output'}")


def service_argv(name: str, root: Path, state: LabState, conf: Path) -> list[str]:
    """How each Manila service is started."""
    if name == "manila-api":
        return [str(venv_bin() / "gunicorn"), *gunicorn_args(state.ports["manila_api"]),
                "--pythonpath", str(root / "manila"), "manila_api_wsgi:application"]
    return [str(venv_bin() / name), "--config-file", str(conf)]


def start_service(name: str, root: Path, state: LabState, conf: Path, table: ProcessTable,
                  cwd: Path) -> None:
    """Start one service if it is not running (cwd: relative paths in the profile resolve there)."""
    if table.running(name):
        return
    # The driver is imported in the service as certkit imports it: from the working directory too.
    path = os.pathsep.join(p for p in (str(cwd), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
    table.spawn(name, service_argv(name, root, state, conf), env=env, cwd=cwd)


def default_type_specs(profile: Profile) -> dict[str, str]:
    """Extra specs of the `default` share type: back end, DHSS, and each claimed boolean capability."""
    specs = {"driver_handles_share_servers": str(profile.dhss),
             "share_backend_name": backend_name(profile)}
    for fid in ("snapshot", "create_from_snapshot", "revert_to_snapshot", "mountable_snapshot"):
        if profile.claims(fid):
            for claim in FEATURES_BY_ID[fid].capabilities:
                if claim.expected is True:
                    specs[claim.key] = "True"
    return specs


def claimed_capability_specs(profile: Profile) -> dict[str, tuple[str, str]]:
    """{feature: (extra spec, value)} for every claimed feature whose capability a share type can ask for."""
    out = {}
    for fid in sorted(profile.claimed):
        feat = FEATURES_BY_ID.get(fid)
        if feat is None:
            continue
        for claim in feat.capabilities:
            if "." in claim.key or claim.key == "driver_handles_share_servers":
                continue
            if claim.expected is True:
                out[fid] = (claim.key, "True")
            elif claim.expected != ANY_VALUE:
                out[fid] = (claim.key, str(claim.expected))
    return out


def wait_for_pools(api: "ManilaAdmin", backend: str, timeout: float, table: ProcessTable) -> list[str]:
    """Wait until the scheduler knows the back end's pools; the error says what it saw."""
    seen: dict[str, Any] = {"pools": []}

    def pools() -> list[str]:
        seen["pools"] = api.pool_names()
        return api.pool_names(backend) if seen["pools"] else []

    try:
        return wait_until(pools, timeout, f"report the pools of back end {backend!r}",
                          table, "manila-share", interval=0.5)
    except CertkitError as exc:
        raise CertkitError(f"{exc} (the scheduler knows: {', '.join(seen['pools']) or 'no pools'}; "
                           f"see {table.log_path('manila-share')})") from None


class ManilaAdmin:
    """The few admin calls the lab makes (types, pools) over a keystoneauth session."""

    VERSION = "2.65"

    def __init__(self, session: Any, base_url: str) -> None:
        self.session = session
        self.base = base_url.rstrip("/")

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"X-OpenStack-Manila-API-Version": self.VERSION, "Accept": "application/json"}
        resp = self.session.request(self.base + path, method, headers=headers, raise_exc=False,
                                    **kwargs)
        if resp.status_code >= 400:
            raise CertkitError(f"lab manila: {method} {path} -> HTTP {resp.status_code}: "
                               f"{resp.text[:200]}")
        return resp.json() if resp.content else {}

    def pool_names(self, backend: str | None = None) -> list[str]:
        """Pools the scheduler knows, or only those whose share_backend_name is `backend`
        (empty on any error: the caller waits)."""
        try:
            pools = self._call("GET", "/scheduler-stats/pools/detail")["pools"]
        except Exception:  # noqa: BLE001 - not ready yet (API starting, no pools)
            return []
        return [p["name"] for p in pools if backend is None or
                (p.get("capabilities") or {}).get("share_backend_name") == backend]

    def ensure_share_type(self, name: str, specs: dict[str, str]) -> str:
        """Create the type or bring its extra specs to `specs`; returns its id."""
        types = {t["name"]: t for t in self._call("GET", "/types?is_public=all")["share_types"]}
        if name not in types:
            body = {"share_type": {"name": name, "extra_specs": specs,
                                   "share_type_access:is_public": True}}
            return self._call("POST", "/types", json=body)["share_type"]["id"]
        type_id = types[name]["id"]
        self._call("POST", f"/types/{type_id}/extra_specs", json={"extra_specs": specs})
        return type_id


def start_all(root: Path, state: LabState, profile: Profile, table: ProcessTable, cwd: Path,
              session: Any, progress: Callable[[str], None], pool_timeout: float) -> list[str]:
    """manila.conf, db sync, services in order, the default share type, and the pools."""
    conf, changed = write_manila_conf(root, state, profile)
    if changed:
        for name in reversed(service_names(profile)):
            table.stop(name)
    if not (root / "manila" / "synced").exists() or changed:
        progress("manila: db sync")
        db_sync(conf)
        (root / "manila" / "synced").write_text("")
    api = ManilaAdmin(session, state.manila_url)
    for name in service_names(profile):
        if name == "manila-share":
            # The scheduler must be up before the share service's first report.
            wait_until(lambda: api.pool_names() is not None and _service_up(api, "manila-scheduler"),
                       90, "register manila-scheduler", table, "manila-scheduler", interval=0.5)
        progress(f"manila: starting {name}")
        start_service(name, root, state, conf, table, cwd)
        if name == "manila-api":
            wait_until(lambda: _api_answers(api), 120, "serve the v2 API", table, "manila-api")
    progress(f"manila: share type `default` for back end {backend_name(profile)}")
    api.ensure_share_type("default", default_type_specs(profile))
    progress("manila: waiting for the back end's pools")
    # Under load, a freshly started scheduler sometimes never consumes the share service's
    # capability reports (its RPC server logs "Possible hang"); a restarted scheduler asks the
    # share services for them. So: wait a while, restart the scheduler, wait again.
    attempts = 3
    for attempt in range(1, attempts + 1):
        try:
            return wait_for_pools(api, backend_name(profile), pool_timeout / attempts, table)
        except CertkitError:
            if attempt == attempts:
                raise
            progress("manila: no pools yet; restarting manila-scheduler")
            table.stop("manila-scheduler")
            start_service("manila-scheduler", root, state, conf, table, cwd)
    raise AssertionError("unreachable")


def _api_answers(api: ManilaAdmin) -> bool:
    try:
        api._call("GET", "/types")
        return True
    except Exception:  # noqa: BLE001 - not serving yet
        return False


def _service_up(api: ManilaAdmin, binary: str) -> bool:
    try:
        services = api._call("GET", "/services")["services"]
    except Exception:  # noqa: BLE001 - not ready yet
        return False
    return any(s["binary"] == binary and s["state"] == "up" for s in services)
