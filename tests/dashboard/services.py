"""Real services for the dashboard tests: PostgreSQL from Debian's packages, the dashboard server
as a subprocess, and Debian's Chromium. Missing Debian packages are installed (CI runs as root)."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port() -> int:
    """A free TCP port on loopback (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def apt_install(*packages: str) -> None:
    """Install Debian packages when root; skip the test (with the command to run) otherwise."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip(f"needs Debian packages {' '.join(packages)}: apt-get install {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq", *packages]
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "update", "-qq"], env=env,
                       capture_output=True)
        subprocess.run(cmd, env=env, check=True, capture_output=True)


def postgres_bin() -> Path:
    """The directory of Debian's PostgreSQL server binaries, installing the package if needed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        apt_install("postgresql")
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL (initdb in a temp dir, loopback, free port); yields its URL."""
    bindir = postgres_bin()
    datadir = Path(tempfile.mkdtemp(prefix="certkit-pg-"))
    port = free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(datadir, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True,  # noqa: E731
                                      cwd="/tmp")
    try:
        run(str(bindir / "initdb"), "-D", str(datadir / "data"), "-A", "trust", "-U", "certkit",
            "--no-sync", "-E", "UTF8")
        run(str(bindir / "pg_ctl"), "-D", str(datadir / "data"), "-w", "-l", str(datadir / "log"),
            "-o", f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1 -c fsync=on", "start")
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "certkit", "certkit")
        yield f"postgresql+psycopg://certkit@127.0.0.1:{port}/certkit"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(datadir / "data"), "-m",
                        "immediate", "stop"], capture_output=True, cwd="/tmp")
        shutil.rmtree(datadir, ignore_errors=True)


def fresh_database(url: str) -> str:
    """A new empty database on the server of `url` (tests do not share state)."""
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"t{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


class DashboardServer:
    """`certkit dashboard serve` in a subprocess on a free loopback port."""

    def __init__(self, db: str, *extra: str) -> None:
        self.db, self.extra = db, extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="certkit-dash-", suffix=".log", delete=False)

    def start(self) -> "DashboardServer":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "certkit.cli", "dashboard", "serve", "--db", self.db,
             "--port", str(self.port), *self.extra], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dashboard exited: {self.log_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("dashboard did not answer within 60 s")

    def log_text(self) -> str:
        """What the server printed so far (its log file is removed by stop())."""
        try:
            return Path(self.log.name).read_text(errors="replace")
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as a crash or the OOM killer would do."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        Path(self.log.name).unlink(missing_ok=True)


def chromium_driver():
    """Headless Debian Chromium through Debian's chromedriver (installed when missing)."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        apt_install("chromium", "chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
