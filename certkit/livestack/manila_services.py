"""manila.conf from the profile, and manila-api (gunicorn), -scheduler, -share, -data."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from certkit.errors import CertkitError
from certkit.harness.config import render_conf
from certkit.apitier.specs import (backend_name, backend_options, default_type_specs,
                                   replica_backend_options)
from certkit.livestack import database
from certkit.livestack.backing import transport_url
from certkit.livestack.network import share_server_network
from certkit.manila_env import scripts_dir
from certkit.livestack.procs import ProcessTable, gunicorn_args, wait_until
from certkit.livestack.state import LabState
from certkit.files import atomic_write
from certkit.profile import Profile

HOST = "certkit-lab"
DATA_FEATURES = ("migration", "backup", "share_server_migration")
WSGI_WRAPPER = '''"""manila-api under gunicorn: Manila reads its config file from the command line."""
import sys
sys.argv = ["manila-api", "--config-file", {conf!r}]
from manila.wsgi.api import application  # noqa: E402,F401
'''


PERIODIC_SECONDS = 10
PERIODIC_OPTIONS = ("periodic_interval", "replica_state_update_interval",
                    "driver_backup_continue_update_interval", "driver_restore_continue_update_interval",
                    "migration_driver_continue_update_interval",
                    "server_migration_driver_continue_update_interval")


def lab_backends(profile: Profile, dhss: bool | None = None) -> list[str]:
    """share_backend_names the lab enables in a DHSS mode (default the profile's first): the
    driver's, and a replica back end when replication is claimed."""
    replica = replica_backend_options(profile, dhss)
    return [backend_name(profile, dhss)] + ([str(replica[1]["share_backend_name"])] if replica else [])


def service_names(profile: Profile) -> list[str]:
    """The Manila services this profile needs, in start order (scheduler before share)."""
    names = ["manila-api", "manila-scheduler", "manila-share"]
    if any(profile.claims(f) for f in DATA_FEATURES):
        names.append("manila-data")
    return names


def manila_conf_text(root: Path, state: LabState, profile: Profile) -> str:
    """The whole manila.conf: lab plumbing plus the driver's groups exactly as the harness builds
    them for the lab's DHSS mode (with a network plugin for share servers when it is True)."""
    group, options = backend_options(profile, state.dhss)
    groups = {group: options}
    replica = replica_backend_options(profile, state.dhss)
    if replica is not None:
        groups[replica[0]] = replica[1]
    networks: dict[str, dict[str, Any]] = {}
    if state.dhss:
        for name in groups:
            groups[name], networks = share_server_network(groups[name], profile.config)
    api_paste = Path(sys.prefix) / "etc" / "manila" / "api-paste.ini"
    sections: dict[str, dict[str, Any]] = {
        "DEFAULT": {
            "host": HOST, "my_ip": "127.0.0.1", "transport_url": transport_url(state),
            "auth_strategy": "keystone", "enabled_share_backends": list(groups),
            "enabled_share_protocols": list(profile.protocols), "default_share_type": "default",
            "state_path": str(root / "manila" / "state"), "api_paste_config": str(api_paste),
            # The scheduler sees the back end's pools at once (no random start-up delay), and
            # services report every 2 s, so a restarted one is seen within seconds.
            "periodic_fuzzy_delay": 0, "report_interval": 2, "use_stderr": True,
            # Periodic work (stats, replica states, backup/migration progress) every 10 s, not
            # every 60-300 s: tempest and the live checks wait on it.
            **dict.fromkeys(PERIODIC_OPTIONS, PERIODIC_SECONDS),
            "debug": os.environ.get("CERTKIT_MANILA_DEBUG") == "1",  # debug logs of the services
        },
        "database": {"connection": database.url(state, "manila")},
        "oslo_concurrency": {"lock_path": str(root / "manila" / "locks")},
        "keystone_authtoken": {
            "www_authenticate_uri": state.auth_url, "auth_url": state.auth_url,
            "auth_type": "password", "project_domain_id": "default", "user_domain_id": "default",
            "project_name": "service", "username": "manila", "password": state.passwords["manila"],
        },
        **groups,
        **networks,
        **privsep_sections(root / "manila" / "manila.conf"),
    }
    return render_conf(sections, profile.path)


def privsep_sections(conf: Path) -> dict[str, dict[str, Any]]:
    """Where manila-share's oslo.privsep helper comes from. As root (this lab's case), the venv's
    `privsep-helper` runs directly, as in DevStack's sudo-less set-ups; oslo.privsep's default,
    `sudo privsep-helper`, would look for the helper on sudo's secure_path, where a venv is not.
    With `helper_command` set, oslo.privsep passes no --config-file of its own
    (oslo_privsep/priv_context.py, PrivContext.helper_command), so it is given here. Not root:
    nothing set, privsep's default (sudo) stands."""
    if os.geteuid() != 0:
        return {}
    helper = shlex.join([str(scripts_dir() / "privsep-helper"), "--config-file", str(conf)])
    return {"manila_sys_admin": {"helper_command": helper}}


def write_manila_conf(root: Path, state: LabState, profile: Profile) -> tuple[Path, bool]:
    """Write manila.conf (0600); returns (path, whether it changed)."""
    base = root / "manila"
    for sub in ("state", "locks"):
        (base / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    path = base / "manila.conf"
    text = manila_conf_text(root, state, profile)
    old = path.read_text() if path.exists() else None
    if old != text:
        atomic_write(path, text)
    (base / "manila_api_wsgi.py").write_text(WSGI_WRAPPER.format(conf=str(path)))
    return path, old != text


def db_sync(conf: Path) -> None:
    """manila-manage db sync: Manila's real migrations."""
    proc = subprocess.run([str(scripts_dir() / "manila-manage"), "--config-file", str(conf), "db", "sync"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        raise CertkitError(f"lab manila: manila-manage db sync failed: {lines[-1] if lines else 'no output'}")


def service_argv(name: str, root: Path, state: LabState, conf: Path) -> list[str]:
    """How each Manila service is started."""
    if name == "manila-api":
        return [str(scripts_dir() / "gunicorn"), *gunicorn_args(state.ports["manila_api"], root / "manila"),
                "--pythonpath", str(root / "manila"), "manila_api_wsgi:application"]
    return [str(scripts_dir() / name), "--config-file", str(conf)]


def start_service(name: str, root: Path, state: LabState, conf: Path, table: ProcessTable,
                  cwd: Path) -> bool:
    """Start one service if it is not running (cwd: relative paths in the profile resolve
    there); True when it was started."""
    if table.running(name):
        return False
    # The driver is imported in the service as certkit imports it: from the working directory too.
    path = os.pathsep.join(p for p in (str(cwd), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
    table.spawn(name, service_argv(name, root, state, conf), env=env, cwd=cwd)
    return True


SETTLE_SECONDS = 5.0
"""How long after manila-share registers (or a scheduler starts) its capability report takes to
reach the scheduler, with room for a loaded machine."""
POOLS_PER_ATTEMPT = 30.0
"""How long to look for the pools before restarting the scheduler (with a fresh cache)."""


def pools_of(by_backend: dict[str, list[str]], backends: list[str]) -> list[str]:
    """The pools of every back end in `backends`, in order; empty while any of them has none."""
    if not all(by_backend.get(b) for b in backends):
        return []
    return [pool for b in backends for pool in by_backend[b]]


def wait_for_pools(api: "ManilaAdmin", backends: list[str], timeout: float, table: ProcessTable,
                   restart_scheduler: Callable[[], None], progress: Callable[[str], None]) -> list[str]:
    """Wait until the scheduler lists pools of every back end in `backends`; the error says
    what it saw.

    Manila's GET /scheduler-stats/pools asks the scheduler for its *cached* host states: called
    after manila-share has registered but before its first capability report arrived, it caches
    the host without pools, and every later call returns that until a share is scheduled. So
    the pools are asked for only once the share service is up and its report has had time to
    arrive; when they are still missing the scheduler is restarted (an empty cache, and it asks
    the share services to report again) and the same wait repeats, until `timeout`.
    """
    deadline = time.monotonic() + timeout
    seen: dict[str, list[str]] = {}

    def pools() -> list[str]:
        seen.clear()
        seen.update(api.pools_by_backend())
        return pools_of(seen, backends)

    while True:
        wait_until(lambda: _service_up(api, "manila-share") and _service_up(api, "manila-scheduler"),
                   max(deadline - time.monotonic(), 1), "register manila-share", table, "manila-share",
                   interval=1)
        time.sleep(SETTLE_SECONDS)
        attempt = min(POOLS_PER_ATTEMPT, max(deadline - time.monotonic(), 1))
        try:
            return wait_until(pools, attempt, f"report the pools of back end(s) {', '.join(backends)}",
                              table, "manila-share", interval=2)
        except CertkitError as exc:
            if time.monotonic() + SETTLE_SECONDS >= deadline:
                known = ", ".join(p for ps in seen.values() for p in ps)
                raise CertkitError(f"{exc} (the scheduler knows: {known or 'no pools'}"
                                   f"; see {table.log_path('manila-share')} and "
                                   f"{table.log_path('manila-scheduler')})") from None
        progress("manila: the scheduler lists no pools of the back end yet; restarting it")
        restart_scheduler()
        since = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()  # Manila's updated_at
        wait_until(lambda since=since: _service_stamp(api, "manila-scheduler") > since,
                   max(deadline - time.monotonic(), 1), "report after its restart", table,
                   "manila-scheduler", interval=1)


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

    def pools_by_backend(self) -> dict[str, list[str]]:
        """{share_backend_name: pool names} the scheduler knows (empty on any error: the caller
        waits)."""
        try:
            pools = self._call("GET", "/scheduler-stats/pools/detail")["pools"]
        except Exception:  # noqa: BLE001 - not ready yet (API starting, no pools)
            return {}
        out: dict[str, list[str]] = {}
        for pool in pools:
            name = (pool.get("capabilities") or {}).get("share_backend_name")
            out.setdefault(str(name), []).append(pool["name"])
        return out

    def pool_names(self, backend: str | None = None) -> list[str]:
        """Pools the scheduler knows, or only those whose share_backend_name is `backend`."""
        by_backend = self.pools_by_backend()
        return [p for b, ps in by_backend.items() if backend is None or b == backend for p in ps]

    def share_count(self) -> int:
        """Shares of every project that are not deleted."""
        return len(self._call("GET", "/shares?all_tenants=1")["shares"])

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
    synced = (root / "manila" / "synced").exists()
    if not synced or changed:
        if not synced:  # at most a killed `up`'s half-applied migrations: start empty
            database.recreate(state, "manila")
        progress("manila: db sync")
        db_sync(conf)
        (root / "manila" / "synced").write_text("")
    api = ManilaAdmin(session, state.manila_url)
    names = service_names(profile)
    started = []

    def start(name: str) -> None:
        progress(f"manila: starting {name}")
        if start_service(name, root, state, conf, table, cwd):
            started.append(name)

    # The API and the scheduler boot side by side; the share service starts once the scheduler
    # has registered, so the scheduler is there for its first capability report. (Asked
    # through the services list, a database read: a pools request is an RPC call that waits
    # 60 s for a reply when the scheduler is not consuming yet.)
    start("manila-api")
    start("manila-scheduler")
    wait_until(lambda: _api_answers(api), 120, "serve the v2 API", table, "manila-api")
    wait_until(lambda: _service_up(api, "manila-scheduler"), 90, "register manila-scheduler",
               table, "manila-scheduler", interval=0.5)
    for name in names[2:]:
        start(name)
    progress(f"manila: share type `default` for back end {state.backend} (DHSS={state.dhss})")
    api.ensure_share_type("default", default_type_specs(profile, state.dhss))
    progress("manila: waiting for the back end's pools")

    def restart_scheduler() -> None:
        table.stop("manila-scheduler")
        start_service("manila-scheduler", root, state, conf, table, cwd)

    if not started:  # already running (a repeated `up`): the scheduler's cache is long filled
        pools = pools_of(api.pools_by_backend(), state.backends)
        if pools:
            return pools
    return wait_for_pools(api, state.backends, pool_timeout, table, restart_scheduler, progress)


def _api_answers(api: ManilaAdmin) -> bool:
    try:
        api._call("GET", "/types")
        return True
    except Exception:  # noqa: BLE001 - not serving yet
        return False


def _services(api: ManilaAdmin, binary: str) -> list[dict[str, Any]]:
    """The binary's rows of Manila's services list (empty while the API is not ready)."""
    try:
        services = api._call("GET", "/services")["services"]
    except Exception:  # noqa: BLE001 - not ready yet
        return []
    return [s for s in services if s["binary"] == binary]


def _service_up(api: ManilaAdmin, binary: str) -> bool:
    return any(s["state"] == "up" for s in _services(api, binary))


def _service_stamp(api: ManilaAdmin, binary: str) -> str:
    """The newest `updated_at` of the binary's services ('' when unknown)."""
    return max((s.get("updated_at") or "" for s in _services(api, binary)), default="")
