"""`certkit lab up|down|status manila --profile PROFILE`: the whole lab, idempotent."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Callable

from certkit.apitier.specs import backend_name
from certkit.errors import CertkitError
from certkit.lab import ports as lab_ports
from certkit.lab.base import NeedsDown
from certkit.lab.processes import kill_and_wait, tagged
from certkit.livestack import backing, database, install, keystone, recovery
from certkit.livestack.identity import admin_session, register_manila
from certkit.livestack.manila_services import ManilaAdmin, lab_backends, service_names, start_all
from certkit.livestack.procs import ProcessTable
from certkit.livestack.state import LabState, lab_dir, load_state, save_state
from certkit.profile import Profile

ORDER = ("postgres", "mariadb", "rabbitmq", "keystone")


def _say(line: str) -> None:
    print(f"lab manila: {line}", file=sys.stderr, flush=True)


def lab_mode(profile: Profile, dhss: bool | None) -> bool:
    """The DHSS mode the lab runs: `dhss` when the profile lists it, else its first mode."""
    if dhss is None:
        return profile.dhss
    if dhss not in profile.dhss_modes:
        listed = ", ".join(str(m).lower() for m in profile.dhss_modes)
        raise CertkitError(f"{profile.path}: driver_handles_share_servers lists {listed}, not "
                           f"{str(dhss).lower()}: the lab runs only a mode the profile certifies")
    return dhss


def up(profile: Profile, *, dhss: bool | None = None, db: str | None = None,
       root: Path | None = None, progress: Callable[[str], None] = _say,
       pool_timeout: float | None = None, choose_port: lab_ports.Chooser | None = None) -> LabState:
    """Bring the lab up for the profile in a DHSS mode it lists (default its first) on a
    database server (`db`: mariadb, the default, or postgresql; kept until `down`). Starts only
    what is not running, after `recovery.verify` (a failed or killed `up` is finished here).

    The wait for the back end's pools defaults to 300 s ($CERTKIT_MANILA_POOL_TIMEOUT): a busy
    2-core machine needs minutes where an idle one needs seconds. `choose_port` replaces the
    port allocator's source of candidates (tests force collisions with it).
    """
    if pool_timeout is None:
        try:
            pool_timeout = float(os.environ.get("CERTKIT_MANILA_POOL_TIMEOUT") or 300)
        except ValueError:
            raise CertkitError("CERTKIT_MANILA_POOL_TIMEOUT: not a number of seconds") from None
    mode = lab_mode(profile, dhss)
    root = root or lab_dir()
    start = time.perf_counter()
    state = load_state(root)
    kind = database.check_kind(db) if db else (state.db if state else database.DEFAULT)
    if state is not None and state.db != kind:
        raise NeedsDown(f"lab manila in {root} runs {state.db}, not {kind}: run `certkit lab "
                        f"down manila` before `up --db {kind}` (the databases are not copied)")
    install.ensure_installed(progress, kind)
    if state is not None and (state.profile_name, state.profile_path, state.dhss) != (
            profile.name, profile.path, mode):
        switch_profile(root, state, profile, mode, progress)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    table = ProcessTable(root)
    if state is None:
        state = LabState.new(profile.path, profile.name, backend_name(profile, mode), mode, kind)
    backends = lab_backends(profile, mode)
    state.replica_backend = backends[1] if len(backends) > 1 else ""
    recovery.verify(root, state, table, progress, choose_port)
    save_state(root, state)
    progress(f"starting in {root}")
    if database.start(root, state, table):  # empty databases: Keystone and Manila start over
        for marker in (root / "keystone" / "bootstrapped", root / "manila" / "synced"):
            marker.unlink(missing_ok=True)
    progress(f"{state.db} on 127.0.0.1:{state.ports['db']}")
    backing.start_rabbitmq(root, state, table)
    progress(f"rabbitmq on 127.0.0.1:{state.ports['rabbit']}")
    keystone.start_keystone(root, state, table)
    progress(f"keystone on {state.auth_url}")
    register_manila(state)
    pools = start_all(root, state, profile, table, Path.cwd(), admin_session(state), progress,
                      pool_timeout)
    progress(f"up in {time.perf_counter() - start:.1f} s: manila {state.manila_url}, "
             f"pools {', '.join(pools)}")
    return state


def switch_profile(root: Path, state: LabState, profile: Profile, dhss: bool,
                   progress: Callable[[str], None]) -> None:
    """Another profile or DHSS mode on a running lab: Manila's services restart on an empty
    database, the lab's PostgreSQL, RabbitMQ and Keystone stay. Refused while Manila still holds
    shares: dropping its database would leave them on the back end."""
    table = ProcessTable(root)
    if table.running("manila-api"):
        left = ManilaAdmin(admin_session(state), state.manila_url).share_count()
        if left:
            raise CertkitError(f"lab manila still holds {left} share(s) of profile "
                               f"{state.profile_name}; delete them or run `certkit lab down "
                               "manila` before bringing it up for another profile or DHSS mode")
    modes = (f" (DHSS={state.dhss})", f" (DHSS={dhss})") if state.dhss != dhss else ("", "")
    progress(f"switching from profile {state.profile_name}{modes[0]} to {profile.name}{modes[1]}: "
             "Manila restarts on an empty database")
    for name in [n for n in table.names() if n.startswith("manila-")]:
        table.stop(name)
    if table.running(database.process_name(state)):
        database.recreate(state, "manila")
    (root / "manila" / "synced").unlink(missing_ok=True)
    state.profile_path, state.profile_name = profile.path, profile.name
    state.backend, state.dhss = backend_name(profile, dhss), dhss
    state.replica_backend = ""  # `up` sets it for the new profile
    save_state(root, state)


def down(*, root: Path | None = None, progress: Callable[[str], None] = _say) -> None:
    """Stop every lab process (by pidfile, then every process carrying the lab's tag) and
    remove the lab's directories; safe to repeat, also on an unreadable state file."""
    root = root or lab_dir()
    try:
        state = load_state(root)
    except NeedsDown:
        state = None
    table = ProcessTable(root)
    names = table.names()
    first = [n for n in names if n.startswith("manila-")]
    for name in first + [n for n in reversed(ORDER) if n in names] + \
            [n for n in names if n not in first and n not in ORDER]:
        table.stop(name)
    if state is not None:
        backing.stop_epmd(root, state)
    left = recovery.strays(root, table, everything=True)
    survivors = kill_and_wait(left)
    if survivors:
        raise CertkitError(f"lab manila down: processes {survivors} did not exit; nothing was "
                           "removed (run `certkit lab down manila` again)")
    if state is not None:
        database.remove(state)
    shutil.rmtree(root, ignore_errors=True)
    extra = f", {len(left)} untracked" if left else ""
    progress(f"down ({len(names)} process(es) stopped{extra}, {root} removed)")


def status(*, root: Path | None = None, out: Callable[[str], None] = print) -> bool:
    """Print each process and the back end's pools; True when everything runs."""
    root = root or lab_dir()
    state = load_state(root)
    if state is None:
        out(f"manila lab: not up ({root})")
        return False
    table = ProcessTable(root)
    from certkit.profile import load_profile

    profile = load_profile(state.profile_path, check_import=False)
    healthy = True
    for name in (database.process_name(state), "rabbitmq", "keystone", *service_names(profile)):
        running = table.running(name)
        healthy &= running
        out(f"{name:<17} {'running' if running else 'STOPPED'}")
    try:
        pools = ManilaAdmin(admin_session(state), state.manila_url).pool_names()
    except Exception as exc:  # noqa: BLE001 - status reports, never raises
        pools = []
        out(f"pools: unavailable ({type(exc).__name__})")
    mine = [p for b in state.backends for p in
            ManilaAdmin(admin_session(state), state.manila_url).pool_names(b)] if pools else []
    healthy &= bool(mine)
    out(f"profile {state.profile_name} (DHSS={state.dhss}); database {state.db}; API {state.manila_url}; pools: {', '.join(mine) or 'none'}")
    return healthy


def service_processes(root: Path, name: str) -> list[tuple[int, int | None]]:
    """(pid, start time) of every process of the lab that is the service `name` (its command
    line or its retitled master and workers, `name: ...`)."""
    found = []
    for pid, started in tagged(root):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].startswith(f"{name}:".encode()) or any(
                Path(a.decode(errors="replace")).name == name for a in argv[:2]):
            found.append((pid, started))
    return found


def restart_services(root: Path, names: list[str], *, cwd: Path | None = None,
                     timeout: float = 180) -> None:
    """Stop and start Manila services of a running lab (the restart checks use it); returns
    when they serve again and the scheduler lists the back end's pools."""
    from certkit.livestack.manila_services import start_service, wait_for_pools
    from certkit.livestack.procs import port_open, wait_until

    state = load_state(root)
    if state is None:
        raise CertkitError(f"no manila lab in {root}")
    table = ProcessTable(root)
    conf = root / "manila" / "manila.conf"
    where = cwd or Path.cwd()
    for name in names:
        table.stop(name)
        # and any copy no pidfile names (one started by an `up` or a restart killed before
        # its pidfile was written): a restart never leaves two of a service running
        kill_and_wait(service_processes(root, name))
    for name in names:
        start_service(name, root, state, conf, table, where)
    if "manila-api" in names:
        wait_until(lambda: port_open(state.ports["manila_api"]), 120, "serve the API again",
                   table, "manila-api")

    def restart_scheduler() -> None:
        table.stop("manila-scheduler")
        start_service("manila-scheduler", root, state, conf, table, where)

    wait_for_pools(ManilaAdmin(admin_session(state), state.manila_url), state.backends, timeout,
                   table, restart_scheduler, lambda line: None)
