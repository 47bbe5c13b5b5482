"""tests/conftest.py's `timed`: the one way the tests record a wall time in FIGURES."""

from __future__ import annotations

import re

import pytest

from tests.conftest import FIGURES, timed


@pytest.fixture(autouse=True)
def _own_figures():
    saved = dict(FIGURES)
    FIGURES.clear()
    yield
    FIGURES.clear()
    FIGURES.update(saved)


def test_a_block_records_its_seconds_then_its_note():
    with timed("one") as watch:
        watch.note = " (3 steps)"
    with timed("two", digits=0):
        pass
    assert re.fullmatch(r"\d+\.\d s \(3 steps\)", FIGURES["one"]), FIGURES
    assert re.fullmatch(r"\d+ s", FIGURES["two"]), FIGURES


def test_a_lap_is_timed_from_the_same_start():
    with timed("whole") as watch:
        watch.lap("first part")
        assert set(FIGURES) == {"first part"}
    assert set(FIGURES) == {"first part", "whole"}
    assert float(FIGURES["first part"].split()[0]) <= float(FIGURES["whole"].split()[0])


def test_a_block_that_fails_records_nothing():
    with pytest.raises(AssertionError), timed("failed"):
        raise AssertionError("the test failed before its figure")
    assert "failed" not in FIGURES
