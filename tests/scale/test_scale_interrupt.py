"""Ctrl-C (a real SIGINT) in the middle of a scale run with 2,000 shares on the back end: the
run stops, deletes everything it created (in parallel), writes its report and exits 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, timed
from tests.scale.profiles import scale_profile

N = 2000


def _final_states(journal_text: str) -> dict[str, str]:
    """Object id -> its last event (create or delete), in the order the driver logged them."""
    state: dict[str, str] = {}
    for line in journal_text.splitlines():
        event, _, obj = line.partition(" ")
        state[obj] = event
    return state


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_at_2000_shares_leaks_nothing(tmp_path):
    journal = tmp_path / "journal"
    profile = scale_profile(tmp_path, driver="tests.scale.broken.Journaling", target_shares=N,
                            steps=[N], rules_per_share=50, samples=20, concurrency=4,
                            profile_concurrency=8)
    report_path = tmp_path / "report.json"
    env = {**os.environ, "CERTKIT_TEST_JOURNAL": str(journal), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "certkit.cli", "run", str(profile), "--no-audit", "--suite", "scale",
         "--report", str(report_path)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count("create ") >= N:
            break
        if proc.poll() is not None:
            pytest.fail(f"the run ended before reaching {N} shares: {proc.communicate()}")
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"the run never reached {N} shares: {proc.communicate()}")
    present = sum(1 for event in _final_states(journal.read_text()).values() if event == "create")
    with timed(f"scale: Ctrl-C with {present} objects on the dummy, to exit"):
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, (out[-2000:], err[-2000:])
    assert "Traceback" not in err, err[-3000:]
    assert present >= N
    left = [obj for obj, event in _final_states(journal.read_text()).items() if event != "delete"]
    assert not left, f"{len(left)} objects never deleted, e.g. {left[:3]}"
    report = json.loads(report_path.read_text())
    assert report["interrupted"] is True and report["verdict"] != "certified"
    assert report["leaks"] == []
