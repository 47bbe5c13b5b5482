"""An interrupted `certkit lab up` (certkit/lab/interrupt.py), with real signals sent to this
process: a fresh lab is brought down, one that was there before is left for the next `up`. The
same against real labs: tests/test_glusterfs_lab.py (SIGTERM, SIGINT, SIGKILL at exact steps)."""

from __future__ import annotations

import os
import signal

import pytest

from certkit.lab.interrupt import guarded_up
from certkit.lab.processes import LabError


def _up_signalled(sig: signal.Signals, made: list[str], directory):
    def up() -> None:
        directory.mkdir()
        made.append("started")
        os.kill(os.getpid(), sig)
        made.append("went on after the signal")
    return up


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_fresh_lab_is_brought_down_and_one_line_says_so(tmp_path, capsys, sig):
    made: list[str] = []
    downs: list[int] = []
    directory = tmp_path / "lab"
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def down() -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # a second signal does not cut the teardown short
        downs.append(1)

    status = guarded_up("glusterfs", directory, _up_signalled(sig, made, directory), down)
    assert status == 128 + sig and made == ["started"] and downs == [1]
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"certkit: lab up glusterfs interrupted by {sig.name}: brought down what it had "
                       "started, nothing of the lab is left")
    assert "SIGTERM ignored: the lab is being brought down" in err[0]
    assert {s: signal.getsignal(s) for s in before} == before


def test_a_lab_that_was_there_before_is_left_for_the_next_up(tmp_path, capsys):
    directory = tmp_path / "lab"
    directory.mkdir()
    downs: list[int] = []

    def up() -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    assert guarded_up("cephfs", directory, up, lambda: downs.append(1)) == 143 and not downs
    assert capsys.readouterr().err.strip() == (
        "certkit: lab up cephfs interrupted by SIGTERM: the lab was there before this `up`, so it is "
        "left as it is (`certkit lab up cephfs` finishes it, `certkit lab down cephfs` removes it)")


def test_a_failed_teardown_names_its_error_in_the_line(tmp_path, capsys):
    def down() -> None:
        raise LabError("lab down: processes [42] did not exit within 30 s")

    directory = tmp_path / "lab"
    assert guarded_up("manila", directory, _up_signalled(signal.SIGTERM, [], directory), down) == 143
    assert capsys.readouterr().err.strip() == (
        "certkit: lab up manila interrupted by SIGTERM; bringing down what it started failed: lab "
        "down: processes [42] did not exit within 30 s")


def test_an_up_that_finishes_returns_none_and_restores_the_handlers(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    assert guarded_up("cephfs", tmp_path / "lab", lambda: None, lambda: None) is None
    assert signal.getsignal(signal.SIGTERM) == before


def test_an_up_stopped_before_it_made_its_directory_brings_nothing_down(tmp_path, capsys):
    """Before its directory (and its claim of the client host) there is nothing of this lab: a
    `down` then would remove the client namespace another lab is using."""
    downs: list[int] = []

    def up() -> None:
        os.kill(os.getpid(), signal.SIGINT)

    assert guarded_up("cephfs", tmp_path / "lab", up, lambda: downs.append(1)) == 130 and not downs
    assert "interrupted by SIGINT: brought down what it had started" in capsys.readouterr().err
