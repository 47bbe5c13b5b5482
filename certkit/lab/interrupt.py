"""An interrupted `certkit lab up KIND` (SIGINT, SIGTERM): the bring-up stops where it is, and
what this `up` started is brought down before the command exits, with one line saying so. When
the lab was there before this `up` (running, or left by an earlier `up` that was killed), it
stays: the next `up` finishes it and `down` removes it, and the line says that instead.

"There before" is judged by the lab's directory: a fresh `up` creates it, `down` removes it.
A further SIGINT or SIGTERM during the teardown is noted and ignored (the teardown would
otherwise be cut half-way); SIGKILL still stops it, and then `down` finishes the job.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path
from typing import Callable, Iterator

from certkit.errors import CertkitError

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived while `lab up` ran (a BaseException, like KeyboardInterrupt,
    so no `except Exception` on the way swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _handled(handler: Callable[[int, object], None]) -> Iterator[None]:
    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _raise(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def _note(signum: int, frame: object) -> None:
    print(f"certkit: {signal.Signals(signum).name} ignored: the lab is being brought down "
          "(SIGKILL stops that too; then run `certkit lab down`)", file=sys.stderr, flush=True)


def shielded() -> contextlib.AbstractContextManager[None]:
    """SIGINT and SIGTERM noted and ignored (for a lab's teardown, which a signal would cut
    half-way); the previous handlers back afterwards."""
    return _handled(_note)


def guarded_up(kind: str, directory: Path, up: Callable[[], object],
               down: Callable[[], object]) -> int | None:
    """Run `up` for the lab KIND living in `directory`; None when it finished. On SIGINT or
    SIGTERM: `down` when `directory` did not exist before (this `up` made everything), then
    one line on stderr; the exit status 128 + the signal's number."""
    fresh = not directory.exists()
    try:
        with _handled(_raise):
            up()
        return None
    except Interrupted as stop:
        with shielded():
            # A fresh `up` stopped before it made the directory (before it claimed the client
            # host) started nothing: its `down` would take down what another lab shares.
            started = fresh and directory.exists()
            print(f"certkit: {interrupted_line(kind, stop.signum, fresh, down if started else None)}",
                  file=sys.stderr, flush=True)
        return 128 + stop.signum


def interrupted_line(kind: str, signum: int, fresh: bool, down: Callable[[], object] | None) -> str:
    """Bring the lab down when this `up` made it (`fresh`; `down` None: it had started nothing
    yet); the one line saying what was done."""
    what = f"lab up {kind} interrupted by {signal.Signals(signum).name}"
    if not fresh:
        return (f"{what}: the lab was there before this `up`, so it is left as it is "
                f"(`certkit lab up {kind}` finishes it, `certkit lab down {kind}` removes it)")
    try:
        if down is not None:
            down()
    except CertkitError as exc:
        return f"{what}; bringing down what it started failed: {exc}"
    return f"{what}: brought down what it had started, nothing of the lab is left"
