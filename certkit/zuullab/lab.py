"""`certkit lab up|down|status|env zuul`: a real Zuul 14 on this machine, in the Ceph lab's style
(daemons under pidfiles, a network namespace of its own, a state file, `down` leaves nothing).

Services: ZooKeeper (Debian, TLS only), zuul-scheduler, zuul-executor (bubblewrap from Debian),
zuul-web, zuul-launcher (Zuul's own node provider; its static driver serves the node), a static
build node (sshd in the `certkit-zuul-node` namespace) and a loopback HTTP server for the logs
the base job publishes. Zuul talks to the Gerrit given at `up` over SSH."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from certkit.errors import CertkitError
from certkit.files import atomic_write
from certkit.lab import packages
from certkit.ci.proctree import descendants
from certkit.lab.base import Lab, mounts_under, root_and_debian
from certkit.lab.commands import run, say
from certkit.lab.processes import Daemon, LabError, kill_and_wait, start_time, tag_env, tagged, wait_until
from certkit.zuullab import config, image, mirror, recipe, venv, zookeeper
from certkit.zuullab.node import PORTS, StaticNode
from certkit.zuullab.state import GerritTarget, ZuulLabState, reserved_ports
from certkit.zuullab.tls import TLSFiles

PACKAGES = ("zookeeper", "bubblewrap", "openssh-server", "openssh-client", "iproute2", "rsync",
            "git", "make", "util-linux", "python3-venv")
SERVICES = ("scheduler", "web", "executor", "launcher")
TENANT = "certkit"


class ZuulLab(Lab):
    """The lab; `gerrit` is needed by `up` only (later commands read it from the state file)."""

    name = "zuul"

    def __init__(self, directory: Path | None = None, gerrit: GerritTarget | None = None) -> None:
        super().__init__(directory)
        self.gerrit = gerrit
        self.run_dir = self.dir / "run"
        self.log_dir = self.dir / "logs"
        self.etc = self.dir / "etc"
        self.tls = TLSFiles(self.dir / "tls")
        self.node = StaticNode(self.dir, self.run_dir, self.log_dir)
        self.state_file = self.dir / "state.json"
        # A ceiling, not a delay (a daemon that dies fails the wait at once): at load 33 on the
        # shared 2-core machine zuul-web was not yet listening 180 s after it started.
        self.timeout = float(os.environ.get("CERTKIT_ZUUL_LAB_TIMEOUT", "600"))

    # -- the daemons ------------------------------------------------------------------------------
    def _daemon(self, name: str, argv: list[str]) -> Daemon:
        v = venv.venv_dir()
        # HOME: Zuul's mergers record Gerrit's host key in ~/.ssh/known_hosts (paramiko,
        # AutoAddPolicy); the lab's own home keeps the machine's /root/.ssh untouched.
        return Daemon(name, argv, self.run_dir, self.log_dir,
                      {"PATH": venv.bin_path(v), "PYTHONUNBUFFERED": "1",
                       "HOME": str(self.dir / "zuul-home"), **tag_env(self.dir)})

    def zookeeper(self) -> Daemon:
        return zookeeper.daemon(self.etc / "zoo.cfg", self.run_dir, self.log_dir)

    def service(self, name: str) -> Daemon:
        """zuul-<name> in the foreground. The executor runs in a private mount namespace where
        /etc/ssh/ssh_config reads known hosts from the lab's home (OpenSSH takes ~ from the
        password database, not $HOME), so neither root's ~/.ssh nor the machine's /etc is
        touched by Zuul's `git fetch ssh://...`."""
        argv = [str(venv.venv_dir() / "bin" / f"zuul-{name}"), "-f", "-c", str(self.etc / "zuul.conf")]
        if name == "executor":
            argv = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                    'mount --bind "$1" /etc/ssh/ssh_config; shift; exec "$@"', "zuul-executor",
                    str(self.etc / "ssh_config"), *argv]
        return self._daemon(name, argv)

    def logserver(self) -> Daemon:
        state = self.load_state()
        port = state.ports["logs"] if state else 0
        return self._daemon("logserver", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                          "--directory", str(self.dir / "build-logs"), str(port)])

    def mirror(self) -> Daemon:
        """The node's package mirror (a static PEP 503 index) on the host end of the node's veth:
        the only address the node reaches besides its own."""
        state = self.load_state()
        port, root = (state.ports["mirror"], state.mirror_dir) if state else (0, "/nonexistent")
        return self._daemon("mirror", [sys.executable, "-m", "http.server", "--bind",
                                       self.node.net.host_ip, "--directory", root, str(port)])

    def mirror_url(self, state: ZuulLabState) -> str:
        return f"http://{self.node.net.host_ip}:{state.ports['mirror']}/simple/"

    def daemons(self) -> list[Daemon]:
        return [self.zookeeper(), *(self.service(n) for n in SERVICES), self.logserver(),
                self.mirror(), *self.node.daemons()]

    def load_state(self) -> ZuulLabState | None:
        return ZuulLabState.load(self.state_file)

    def _state_or_none(self) -> ZuulLabState | None:
        """The state for `down`: an unreadable file must not stop the teardown."""
        try:
            return self.load_state()
        except CertkitError:
            return None

    # -- up ---------------------------------------------------------------------------------------
    def can_run(self) -> str | None:
        return root_and_debian("Zuul", "network namespaces, bubblewrap, Debian packages",
                               "zookeeper and bubblewrap packages", "/usr/share/java/zookeeper.jar")

    def up(self) -> None:
        reason = self.can_run()
        if reason:
            raise LabError(reason)
        t0 = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.record()
        installed = packages.ensure(PACKAGES, self.dir / "apt.log")
        say(f"packages: {'installed ' + ' '.join(installed) if installed else 'all present'}")
        # Both builds mostly wait on downloads (and are cached after the first `up`): side by side.
        with ThreadPoolExecutor(max_workers=2) as pool:
            building_venv = pool.submit(venv.ensure, self.dir / "venv-build.log")
            wheelhouse = mirror.ensure(self.dir / "mirror-build.log")
            zuul_venv = building_venv.result()
        t_venv = time.monotonic()
        fresh = self.load_state() is None
        state = self._state(wheelhouse)
        for sub in (self.run_dir, self.log_dir, self.etc, self.dir / "build-logs", self.dir / "git",
                    Path(state.job_dir), self.dir / "launcher"):
            sub.mkdir(parents=True, exist_ok=True)
        if not self.tls.exists():
            self.tls.create()
        # The phases overlap where one waits and the other computes: ZooKeeper's JVM starts
        # while the node is set up, and the node's image is baked (uv copying files) while
        # Zuul's services import and load the tenant (CPU).
        phases: dict[str, float] = {}
        t = time.monotonic()
        zk = self._start_zookeeper()
        self.node.up()
        self.mirror().start()
        sshds = [d.pid() for d in self.node.daemons()]
        if None in sshds:
            raise LabError("a static node's sshd is not running")
        phases["node"] = time.monotonic() - t
        with ThreadPoolExecutor(max_workers=1) as pool:
            def bake_all() -> None:  # one after the other: each is mostly uv copying files
                for home, sshd in zip(self.node.homes, sshds):
                    image.bake(home, sshd, recipe.recipe_path().parents[2], wheelhouse,
                               self.dir / "image-build.log")
            baking = pool.submit(bake_all)
            (self.dir / "zuul-home" / ".ssh").mkdir(mode=0o700, parents=True, exist_ok=True)
            if fresh:  # a lab already up keeps its repositories (a new commit would reconfigure Zuul)
                self._write_repositories()
                self._write_known_hosts(state)
            self._wait_zookeeper(zk, state)
            phases["zookeeper"] = time.monotonic() - t
            for name in SERVICES:
                self.service(name).start()
            self.logserver().start()
            wait_until("the node's mirror", 30,
                       lambda: self._listening(self.node.net.host_ip, state.ports["mirror"]),
                       f"log: {self.log_dir / 'mirror.stderr'}")
            self._wait_ready(state)
            phases["zuul"] = time.monotonic() - t
            baking.result()
            phases["image"] = time.monotonic() - t
        say(f"up: Zuul {venv.ZUUL_VERSION} at {state.web_url} (tenant {TENANT}), static nodes "
            f"{self.node.ip} ports {', '.join(map(str, PORTS))} in {self.node.net.netns}, logs at {state.logs_url}, "
            f"node mirror {self.mirror_url(state)}")
        say(f"figures: packages+venv {t_venv - t0:.1f} s, services {time.monotonic() - t_venv:.1f} s "
            f"({', '.join(f'{k} ready at {v:.1f} s' for k, v in phases.items())}), "
            f"total {time.monotonic() - t0:.1f} s (venv {zuul_venv})")

    @staticmethod
    def _listening(host: str, port: int) -> bool:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            return False

    def _state(self, wheelhouse: Path) -> ZuulLabState:
        """The state of a lab already up (its ports), else a new one (ports reserved now)."""
        state = self.load_state()
        if state is not None:
            if self.gerrit is not None and self.gerrit != state.gerrit:
                raise LabError(f"the zuul lab in {self.dir} is up for Gerrit {state.gerrit.host}:"
                               f"{state.gerrit.port}; `certkit lab down zuul` first")
            return state
        if self.gerrit is None:
            raise LabError("lab up zuul: which Gerrit? give --gerrit ssh://USER@HOST:PORT and "
                           "--gerrit-key FILE")
        with reserved_ports() as ports:
            state = ZuulLabState(gerrit=self.gerrit, ports=ports, mirror_dir=str(wheelhouse))
            self.etc.mkdir(parents=True, exist_ok=True)
            state.save(self.state_file)
            (self.etc / "zoo.cfg").write_text(zookeeper.zoo_cfg(self.dir / "zookeeper", ports["zookeeper"],
                                                                self.tls))
            conf = config.zuul_conf(self.dir, state, self.tls, self.node.executor_key, venv.venv_dir())
            atomic_write(self.etc / "zuul.conf", conf)
            (self.etc / "site-variables.yaml").write_text(config.site_variables(
                self.dir, state.logs_url, self.mirror_url(state)))
        return state

    def _write_repositories(self) -> None:
        """main.yaml and the zuul-config repository from the recipe; certkit's mirror."""
        files = recipe.recipe_files()
        (self.etc / "main.yaml").write_text(files.pop("main.yaml"))
        project = {path.split("/", 1)[1]: text for path, text in files.items()
                   if path.startswith("zuul-config/")}
        project["zuul.d/nodes.yaml"] = config.nodes_yaml(self.node.ip, self.node.host_key_line, PORTS)
        config.write_repo(self.dir / "git" / "zuul-config", project, "The lab's config project")
        config.mirror_source_tree(recipe.recipe_path().parents[2], self.dir / "git" / "certkit")

    def _write_known_hosts(self, state: ZuulLabState) -> None:
        """Gerrit's SSH host key for the executor's git (as an operator runs ssh-keyscan)."""
        g = state.gerrit
        keys = run(["ssh-keyscan", "-p", str(g.port), "-T", "5", g.host], "scan Gerrit's host key",
                   timeout=30)
        if not keys.strip():
            raise LabError(f"ssh-keyscan {g.host}:{g.port}: no host key (is Gerrit up?)")
        known = self.dir / "zuul-home" / ".ssh" / "known_hosts"
        known.write_text(keys)
        known.chmod(0o600)
        system = Path("/etc/ssh/ssh_config")
        (self.etc / "ssh_config").write_text(
            f"# The executor's view of {system} (a bind mount in its own mount namespace).\n"
            f"UserKnownHostsFile {known}\n"
            + (system.read_text() if system.exists() else ""))

    def _start_zookeeper(self) -> Daemon:
        """ZooKeeper started (not yet waited for: see _wait_zookeeper)."""
        (self.dir / "zookeeper").mkdir(exist_ok=True)
        zk = self.zookeeper()
        zk.start()
        return zk

    def _wait_zookeeper(self, zk: Daemon, state: ZuulLabState) -> None:
        def ready() -> bool:
            zk.expect_running()
            return zookeeper.tls_handshake(state.ports["zookeeper"], self.tls)
        wait_until("ZooKeeper (TLS)", 60, ready, f"log: {self.log_dir / 'zookeeper.stderr'}")

    def api(self, state: ZuulLabState, path: str) -> object:
        """GET Zuul web's JSON API."""
        with urllib.request.urlopen(f"{state.web_url}/api/{path}", timeout=5) as response:
            return json.loads(response.read())

    def _wait_ready(self, state: ZuulLabState) -> None:
        """Until the tenant is loaded without errors and an executor and a launcher run."""
        daemons = [self.service(n) for n in SERVICES]

        def ready() -> bool:
            for d in daemons:
                d.expect_running()
            tenants = {t["name"] for t in self.api(state, "tenants")}
            if TENANT not in tenants:
                return False
            components = self.api(state, "components")
            running = {kind for kind, items in components.items()
                       if any(i.get("state") == "running" for i in items)}
            return {"scheduler", "executor", "launcher", "web"} <= running
        wait_until("Zuul (tenant loaded, executor and launcher running)", self.timeout, ready,
                   f"logs: {self.log_dir}")
        errors = self._settled_errors(state)
        if errors and all("read-only is set" in str(e.get("error")) for e in errors):
            # zuul-web loaded the tenant before the scheduler filled the branch cache: its view
            # (which serves config-errors and the status page) is stale. Restart web once.
            web = self.service("web")
            kill_and_wait([r for r in [web.tracked()] if r], timeout=30)
            web.start()
            wait_until("zuul-web after its restart", self.timeout, ready, f"logs: {self.log_dir}")
            errors = self._settled_errors(state)
        if errors:
            first = errors[0]
            lines = [line for line in str(first.get("error", "")).splitlines() if line.strip()]
            raise LabError(f"Zuul's configuration has {len(errors)} error(s), first in "
                           f"{first.get('source_context', {}).get('project')}: "
                           f"{' '.join(lines[:6])[:400]}")

    def _settled_errors(self, state: ZuulLabState, wait: float = 30.0) -> list[dict]:
        """Zuul web's configuration errors, once they stop changing (or after `wait`)."""
        deadline = time.monotonic() + wait
        errors = self.api(state, f"tenant/{TENANT}/config-errors")
        while errors and time.monotonic() < deadline:
            time.sleep(2)
            errors = self.api(state, f"tenant/{TENANT}/config-errors")
        return list(errors)

    # -- down -------------------------------------------------------------------------------------
    def _tracked(self) -> list[tuple[int, int | None]]:
        found = []
        for pidfile in sorted(self.run_dir.glob("*.pid.json")):
            record = Daemon(pidfile.name[:-len(".pid.json")], [], self.run_dir, self.log_dir).tracked()
            if record:
                found.append(record)
        for pid in self.node.net.pids():
            found.append((pid, start_time(pid)))
        return found

    def _children(self, roots: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
        """Every descendant of the lab's daemons (ansible-playbook, ssh, bwrap under the executor)."""
        return [(pid, start_time(pid)) for root, _ in roots for pid in sorted(descendants(root))]

    def down(self) -> None:
        t0 = time.monotonic()
        roots = self._tracked()
        # Tagged: what the daemons' trees no longer reach (multiprocessing's forkserver and
        # resource tracker, orphaned to init when their daemon dies before them).
        found = [*roots, *self._children(roots)]
        survivors = kill_and_wait([*found, *(p for p in tagged(self.dir) if p not in found)], timeout=30)
        if survivors:
            raise LabError(f"lab down zuul: processes {survivors} did not exit within 30 s; "
                           "nothing was removed (run `certkit lab down zuul` again)")
        t_processes = time.monotonic() - t0
        for mountpoint in mounts_under(self.dir):
            subprocess.run(["umount", "-l", mountpoint], capture_output=True)
        self.node.net.down()
        state = self._state_or_none()
        if state is not None:
            shutil.rmtree(state.job_dir, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.forget()
        left = [*self.node.net.leftovers(), *mounts_under(self.dir)]
        if state is not None and Path(state.job_dir).exists():
            left.append(state.job_dir)
        if self.dir.exists():
            left.append(str(self.dir))
        if left:
            raise LabError(f"lab down zuul: still present after teardown: {', '.join(left)}")
        say(f"down: every process exited, nothing left ({time.monotonic() - t0:.1f} s, of it "
            f"{t_processes:.1f} s finding and killing the processes)")

    # -- status / env -----------------------------------------------------------------------------
    def status(self) -> bool:
        state = self.load_state()
        if state is None:
            print("zuul lab: down")
            return False
        stopped = [d.name for d in self.daemons() if d.pid() is None]
        try:
            tenants = [t["name"] for t in self.api(state, "tenants")]
        except OSError as exc:
            tenants = [f"web unreachable ({exc})"]
        print(f"zuul lab: Zuul {venv.ZUUL_VERSION} at {state.web_url}; tenants {', '.join(tenants)}; "
              f"nodes {self.node.ip} ports {', '.join(map(str, PORTS))} ({self.node.net.netns}); "
              f"{'all services running' if not stopped else 'stopped: ' + ', '.join(stopped)}; "
              f"dir {self.dir}")
        return not stopped and TENANT in tenants

    def env(self) -> dict[str, str]:
        state = self.load_state()
        if state is None:
            raise LabError("the zuul lab is down")
        return {"CERTKIT_ZUUL_WEB": state.web_url, "CERTKIT_ZUUL_TENANT": TENANT,
                "CERTKIT_ZUUL_LOGS": state.logs_url, "CERTKIT_ZUUL_CONF": str(self.etc / "zuul.conf")}
