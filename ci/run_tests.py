"""`make test`: certkit's own tests in four lanes side by side, within CI's 20 minutes on 2 cores.

The budget (measured figures: docs/contributing/test-budget.md):

* Work that waits (services booting, RPC, SSH, package downloads) overlaps across lanes for
  free; work that computes cannot, since 2 cores hold only 2 lanes' worth of CPU. So lanes are
  cut by what a test waits for, not by subject.
* The client host is one per machine and every lab that uses it (CephFS, GlusterFS) holds its
  lock from `lab up` to `lab down`: those tests can never overlap each other, whatever lane they
  run in. Spread over two lanes (as before), one lane sat idle on the lock while the other held
  it, and each CephFS module brought the Ceph lab up and down again for itself (three times per
  run). They now form one lane, `client-host`, in one process, so the CephFS lab comes up once
  for every module (tests/conftest.py: ClientHostLabs) and the lane never waits on the lock.
  Its order: the GlusterFS lab first (its module takes the client host and gives it back), then
  every CephFS module, tests/test_lab.py last (its last test brings the lab down and checks that
  nothing is left).
* `live`: what waits on Manila's services and on downloads (the live Manila tier of the dummy,
  the older Manila's venv).
* `zuul`: tests/zuul/ with its real-Zuul end to end (its own lab in a network namespace of its
  own, never the client host), measured alone at 1,133 s wall and 206 CPU s at load 19 to 12;
  most of its CPU is spent by the lab's daemons, which its lane figure does not count (the
  e2e's teardown reports them: docs/contributing/test-budget.md). The lane also takes the docs
  build and the live tier's hostile-input tests (which mostly wait on unreachable targets),
  which had made the `live` and `rest` lanes the longest (a clean run at 1,685 s: live
  1,560 s, rest 1,016 s, client-host 995 s).
* `rest`: everything else, mostly computing (certifications of broken drivers, the CI listener
  and executor against real ansible-playbook, the dashboard against real PostgreSQL and
  Chromium). It prints as it runs; the other lanes print when they end.

Room for new tests: the lane to add a lab test to is `client-host` when it uses the client
host (CephFS, GlusterFS, NFS data path), else `live` when it mostly waits on services; the
figures each lane prints at the end (wall and CPU seconds) say how much room is left.

Arguments are passed to every lane's pytest (`ci/run_tests.py --durations=0` to see where the
time goes). The exit status is the first failing lane's. Ctrl-C and SIGTERM reach every lane as a
KeyboardInterrupt (SIGINT), so their fixtures still bring every lab down.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

LANES: dict[str, tuple[str, ...]] = {
    "client-host": ("tests/test_glusterfs_lab.py", "tests/scale/test_scale_cephfs.py",
                    "tests/test_explore_lab.py", "tests/live/test_cephfs_live.py",
                    "tests/test_lab.py"),
    "live": ("tests/live", "tests/test_manila_releases.py"),
    "zuul": ("tests/zuul", "tests/docs", "tests/test_explore_live_hostile.py"),
}
"""Each lane's test paths in the order they run; `rest` runs all of tests/ but these. A path
inside another lane's directory (tests/live/test_cephfs_live.py) is left out of that lane."""
REST = "rest"


@dataclass
class Lane:
    name: str
    argv: list[str]
    log: Path | None  # None: prints as it runs
    proc: subprocess.Popen | None = None
    started: float = 0.0
    wall: float = 0.0
    cpu: float = 0.0
    status: int | None = None
    paths: tuple[str, ...] = field(default_factory=tuple)


def lane_arguments() -> dict[str, list[str]]:
    """pytest's arguments for each lane: its paths, and --ignore for every path another lane
    runs that lies inside one of them."""
    claimed = [p for paths in LANES.values() for p in paths]
    args = {}
    for name, paths in LANES.items():
        inside = [p for p in claimed if p not in paths and any(p.startswith(f"{own}/") for own in paths)]
        args[name] = [*paths, *(f"--ignore={p}" for p in inside)]
    args[REST] = ["tests", *(f"--ignore={p}" for p in claimed)]
    return args


def _reap_next(lanes: list[Lane]) -> None:
    """Wait for whichever lane ends next; its status, wall time (to its own end, not to when
    an earlier lane was waited for) and CPU time (its own and its reaped children's)."""
    pid, status, usage = os.wait4(-1, 0)
    lane = next((lane for lane in lanes if lane.proc is not None and lane.proc.pid == pid), None)
    if lane is None:  # not a lane (nothing else is started here; kept for safety)
        return
    lane.proc.returncode = lane.status = os.waitstatus_to_exitcode(status)
    lane.wall = time.monotonic() - lane.started
    lane.cpu = usage.ru_utime + usage.ru_stime


def restore_sigint() -> None:
    """Ctrl-C raises KeyboardInterrupt here and in every lane, even when this was started with
    SIGINT ignored (a shell's background job: `make test &`, a CI script): an ignored signal stays
    ignored across exec, and a lane ignoring SIGINT would never bring its labs down."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main() -> int:
    python = sys.executable
    lanes: list[Lane] = []
    restore_sigint()

    def forward(signum: int, frame: object) -> None:
        """SIGTERM (a CI timeout) reaches the lanes as Ctrl-C would: labs still come down."""
        for lane in lanes:
            if lane.proc is not None and lane.status is None:
                lane.proc.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, forward)
    with tempfile.TemporaryDirectory(prefix="certkit-lanes-", ignore_cleanup_errors=True) as tmp:
        for name, args in [*((n, a) for n, a in lane_arguments().items() if n != REST),
                           (REST, lane_arguments()[REST])]:
            log = None if name == REST else Path(tmp) / f"{name}.log"
            argv = [python, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider", *sys.argv[1:]]
            if log is not None:
                argv += ["--basetemp", str(Path(tmp) / f"basetemp-{name}")]
            lanes.append(Lane(name, argv, log))
        handles = []
        try:
            for lane in lanes:
                out = None
                if lane.log is not None:
                    out = open(lane.log, "w")  # closed below, after the lane ends
                    handles.append(out)
                lane.started = time.monotonic()
                lane.proc = subprocess.Popen(lane.argv, stdout=out,
                                             stderr=subprocess.STDOUT if out else None)
            while any(lane.status is None for lane in lanes):
                try:
                    _reap_next(lanes)
                except KeyboardInterrupt:  # the terminal sent Ctrl-C to every lane as well
                    continue
        finally:
            for handle in handles:
                handle.close()
        for lane in lanes:
            if lane.log is not None:
                print(f"\n==== lane {lane.name}: {' '.join(lane.argv[3:])} ====", flush=True)
                sys.stdout.write(lane.log.read_text(errors="replace"))
        print("\n==== lanes ====")
        for lane in lanes:
            print(f"lane {lane.name}: exit {lane.status}, {lane.wall:.0f} s wall, "
                  f"{lane.cpu:.0f} s CPU", flush=True)
    return next((lane.status for lane in lanes if lane.status), 0)


if __name__ == "__main__":
    sys.exit(main())
