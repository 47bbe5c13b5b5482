"""`make test`: certkit's own tests in two lanes side by side.

Lane 2 holds the tests that mostly wait (the live Manila tier, whose services boot and answer
over RPC, the build of an older Manila's venv, which mostly downloads, and the real Zuul of
tests/zuul, whose builds mostly wait on Ansible and SSH), plus the GlusterFS lab and the docs
build, measured to finish sooner there (lane 2 took 16 min and lane 1 over 20 with them in lane
1); lane 1 everything else. On CI's 2 cores the two overlap instead of adding up. Lane 1 prints as it goes, lane 2
when it is done; the exit status is lane 1's, else lane 2's. Ctrl-C and SIGTERM reach both
lanes as a KeyboardInterrupt, so their fixtures still bring every lab down. The client host
(one per machine) is shared through a lock by the CephFS and GlusterFS labs, whichever lane runs
them (certkit/lab/clienthost.py: lock; tests/conftest.py: running_lab).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

LANE2 = ("tests/test_glusterfs_lab.py", "tests/live", "tests/test_manila_releases.py", "tests/zuul",
         "tests/docs")
"""Lane 2 in the order it runs: the GlusterFS lab first, while lane 1 has not reached the CephFS
lab tests (both need the client host), and the docs build last, when the services are down."""


def main() -> int:
    python = sys.executable
    lanes: list[subprocess.Popen] = []

    def forward(signum: int, frame: object) -> None:
        """SIGTERM (a CI timeout) reaches the lanes as Ctrl-C would: labs still come down."""
        for lane in lanes:
            if lane.poll() is None:
                lane.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, forward)
    with tempfile.TemporaryDirectory(prefix="certkit-lane2-", ignore_cleanup_errors=True) as tmp:
        log_path = Path(tmp) / "lane2.log"
        with open(log_path, "w") as log:
            lane2 = subprocess.Popen([python, "-m", "pytest", *LANE2, "-q", "-p", "no:cacheprovider",
                                      "--basetemp", str(Path(tmp) / "basetemp")],
                                     stdout=log, stderr=subprocess.STDOUT)
            lane1 = subprocess.Popen([python, "-m", "pytest", "tests", "-q",
                                      *(f"--ignore={path}" for path in LANE2)])
            lanes += [lane1, lane2]
            try:
                first, second = lane1.wait(), lane2.wait()
            except KeyboardInterrupt:  # the terminal sent Ctrl-C to both lanes as well
                first, second = lane1.wait() or 130, lane2.wait()
        print(f"\n==== lane 2: {' '.join(LANE2)} ====", flush=True)
        sys.stdout.write(log_path.read_text(errors="replace"))
    return first or second


if __name__ == "__main__":
    sys.exit(main())
