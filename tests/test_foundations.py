"""The bottom-layer helpers every other module relies on: the one waiter, the one text
shortener and the one dotted-path importer."""

from __future__ import annotations

import pytest

from certkit.dotted import DottedImportError, import_dotted
from certkit.text import error_text, one_line
from certkit.waiting import WaitTimeout, poll_until


def test_poll_until_returns_the_value_that_satisfied_the_condition():
    values = iter(["creating", "creating", "available", "never read"])
    seen = []

    def probe():
        seen.append(next(values))
        return seen[-1]

    assert poll_until(probe, lambda v: v == "available", timeout=30, what="status",
                      interval=0.001) == "available"
    assert seen == ["creating", "creating", "available"]


def test_poll_until_times_out_naming_what_it_awaited_and_the_last_value():
    calls = []
    with pytest.raises(WaitTimeout) as caught:
        poll_until(lambda: calls.append(1) or {"status": "migrating"}, lambda v: False,
                   timeout=0, what="get_share_status to report 'available'")
    assert len(calls) == 1, "the probe runs once even with no time left"
    message = str(caught.value)
    assert "waiting for get_share_status to report 'available'" in message
    assert "last seen: {'status': 'migrating'}" in message


def test_poll_until_raises_the_callers_error_type_and_lets_the_probe_stop_early():
    class Violation(AssertionError):
        pass

    with pytest.raises(Violation):
        poll_until(lambda: None, lambda v: False, timeout=0, what="x", error=Violation)

    def probe():
        raise Violation("error state")

    with pytest.raises(Violation, match="error state"):
        poll_until(probe, lambda v: True, timeout=30, what="x")


def test_one_line_collapses_whitespace_and_cuts_to_the_limit():
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line("x" * 10, 8) == "xxxxx..."
    assert len(one_line("x" * 1000, 200)) == 200
    kept = one_line("start " + "m" * 600 + " cause", 100, keep_end=True)
    assert kept.startswith("start ") and kept.endswith(" cause") and " ... " in kept
    assert len(kept) <= 100
    assert error_text(ValueError("bad\nvalue")) == "ValueError: bad value"


def test_import_dotted_finds_modules_and_classes():
    import certkit.text

    assert import_dotted("certkit.text") is certkit.text
    assert import_dotted("certkit.text.one_line") is one_line


@pytest.mark.parametrize("path, problem", [
    ("vendor_sdk_not_installed.drivers.Driver",
     "cannot import module vendor_sdk_not_installed.drivers: ModuleNotFoundError"),
    ("certkit.text.NoSuchClass", "module certkit.text has no class NoSuchClass"),
    ("tests.audit_fixtures.unimportable", "acme_storage_sdk"),
    ("nodots", "cannot import module nodots"),
])
def test_import_dotted_says_which_part_failed(path, problem):
    with pytest.raises(DottedImportError) as caught:
        import_dotted(path)
    assert problem in str(caught.value)
    assert "\n" not in str(caught.value)
