"""ci/run_tests.py, the lanes of `make test`: every test file runs in exactly one lane, and
every lane can be interrupted (so its labs come down) even when `make test` was started with
SIGINT ignored."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("run_tests", ROOT / "ci" / "run_tests.py")
run_tests = sys.modules["run_tests"] = importlib.util.module_from_spec(spec)  # for its dataclass
spec.loader.exec_module(run_tests)


def _runs(args: list[str], test_file: str) -> bool:
    """Whether pytest given `args` (paths and --ignore=) collects `test_file`."""
    paths = [a for a in args if not a.startswith("--")]
    ignored = [a.removeprefix("--ignore=") for a in args if a.startswith("--ignore=")]
    def under(path: str, top: str) -> bool:
        return path == top or path.startswith(f"{top}/")
    return any(under(test_file, p) for p in paths) and not any(under(test_file, i) for i in ignored)


def test_every_test_file_runs_in_exactly_one_lane():
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py"))
    lanes = run_tests.lane_arguments()
    assert set(lanes) == {*run_tests.LANES, run_tests.REST}
    wrong = {f: [n for n, args in lanes.items() if _runs(args, f)] for f in files}
    wrong = {f: names for f, names in wrong.items() if len(names) != 1}
    assert not wrong, f"test files not in exactly one lane: {wrong}"
    for paths in run_tests.LANES.values():
        assert all((ROOT / p).exists() for p in paths), paths


def test_the_client_host_labs_share_one_lane():
    """The CephFS and GlusterFS lab modules take one lock: in one lane they never wait on each
    other, and the CephFS ones share one `lab up` (tests/conftest.py ClientHostLabs)."""
    lanes = run_tests.lane_arguments()
    users = ["tests/test_glusterfs_lab.py", "tests/test_lab.py", "tests/scale/test_scale_cephfs.py",
             "tests/test_explore_lab.py", "tests/live/test_cephfs_live.py"]
    assert all(_runs(lanes["client-host"], f) for f in users)
    order = run_tests.LANES["client-host"]
    assert order[-1] == "tests/test_lab.py", "its last test brings the CephFS lab down"


def test_lanes_get_sigint_back_when_started_with_it_ignored():
    script = ("import signal, subprocess, sys, importlib.util\n"
              "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
              f"spec = importlib.util.spec_from_file_location('r', {str(ROOT / 'ci' / 'run_tests.py')!r})\n"
              "r = sys.modules['r'] = importlib.util.module_from_spec(spec); spec.loader.exec_module(r)\n"
              "r.restore_sigint()\n"
              "sys.exit(subprocess.run([sys.executable, '-c', 'import os, signal, time\\n"
              "try:\\n    os.kill(os.getpid(), signal.SIGINT); time.sleep(5)\\n"
              "except KeyboardInterrupt:\\n    raise SystemExit(42)']).returncode)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 42, done.stderr
    # ...and without restore_sigint the lane would have ignored it (the bug this guards against)
    ignored = script.replace("r.restore_sigint()\n", "")
    done = subprocess.run([sys.executable, "-c", ignored], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


LANE = '''
import os, pathlib, time
import pytest
from certkit.lab.interrupt import shielded

MARKS = pathlib.Path(os.environ["LANE_MARKS"])

@pytest.fixture(scope="session")
def lab():
    name = str(os.getpid())
    (MARKS / f"up-{name}").touch()
    yield
    with shielded():  # as tests/conftest.py's running_lab does around `down`
        time.sleep(0.5)
        (MARKS / f"down-{name}").touch()

def test_holds_the_lab(lab):
    time.sleep(120)
'''


@pytest.mark.parametrize("whom", ["make test's process", "its process group"])
def test_a_sigtermed_make_test_brings_every_lane_s_lab_down(tmp_path, whom):
    """SIGTERM to ci/run_tests.py (what `make` forwards) or to its whole process group (a CI
    timeout, a harness): every lane's session fixtures, tests/conftest.py's included, unwind."""
    lane_file = tmp_path / "lane_holder.py"
    lane_file.write_text(LANE)
    script = (f"import importlib.util, os, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
              f"spec = importlib.util.spec_from_file_location('r', {str(ROOT / 'ci' / 'run_tests.py')!r})\n"
              "r = sys.modules['r'] = importlib.util.module_from_spec(spec); spec.loader.exec_module(r)\n"
              f"args = [{str(lane_file)!r}, '-p', 'tests.conftest', '-s']\n"
              "r.lane_arguments = lambda: {'client-host': args, 'rest': args}\n"
              "sys.exit(r.main())\n")
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "LANE_MARKS": str(marks), "PYTHONPATH": str(ROOT)}
    make = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(marks.glob("up-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(list(marks.glob("up-*"))) == 2, "the two lanes did not both bring their lab up"
        os.killpg(make.pid, signal.SIGTERM) if whom == "its process group" else make.send_signal(signal.SIGTERM)
        out, _ = make.communicate(timeout=60)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    ups = sorted(p.name.removeprefix("up-") for p in marks.glob("up-*"))
    downs = sorted(p.name.removeprefix("down-") for p in marks.glob("down-*"))
    assert ups and downs == ups, out[-3000:]
    assert make.returncode != 0 and "KeyboardInterrupt" in out, out[-3000:]
