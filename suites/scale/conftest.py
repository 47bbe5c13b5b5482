"""The `scale` fixture: the run's scale results, measured once through a check's Resources."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from certkit.contract.progress import live_progress
from certkit.scale.measurement import ScaleMeasurement, ScaleSettings

_FAILED_RUNS: dict[str, str] = {}
"""run id -> why the measurement itself broke (so later checks report it, not re-run it)."""


def measured_pair(profile: Any) -> tuple[str, str | None]:
    """The protocol the population uses and the access type of the update_access step: the
    first claimed (protocol, access type) pair, else the first protocol without rules."""
    for proto, kinds in profile.access_types.items():
        if kinds:
            return proto, kinds[0]
    return profile.protocols[0], None


@pytest.fixture
def scale(request, certkit_run, resources, dut, context, profile
          ) -> Iterator[Callable[[], dict[str, Any]]]:
    """A callable returning the run's `scale` section. The first scale check's set-up runs the
    measurement through its own Resources: in set-up, the measurement as a whole is outside the
    per-check deadline (which no check may raise), while every driver call in it keeps the
    user's check timeout as its own deadline. Its teardown (also on Ctrl-C, also when the
    measurement breaks) stops the measurement and waits for calls in flight before Resources
    delete what is left."""
    running: list[ScaleMeasurement] = []

    def results() -> dict[str, Any]:
        if certkit_run.run_id in _FAILED_RUNS:
            raise RuntimeError(_FAILED_RUNS[certkit_run.run_id])
        if certkit_run.scale is None:
            proto, access_type = measured_pair(profile)
            measurement = ScaleMeasurement(
                resources, ScaleSettings.from_block(profile.scale), proto=proto,
                access_type=access_type, context=context,
                new_instance=lambda: certkit_run.new_driver(
                    dut.dhss, private_storage=dut.private_storage).driver,
                call_timeout=certkit_run.check_timeout,
                driver_seconds=lambda: certkit_run.times.total,
                snapshots=profile.claims("snapshot"), progress=live_progress(request, certkit_run.progress))
            running.append(measurement)
            try:
                certkit_run.scale = measurement.run()
            except Exception as exc:
                _FAILED_RUNS[certkit_run.run_id] = f"the scale measurement broke: {type(exc).__name__}: {exc}"
                raise
        return certkit_run.scale

    try:
        results()
        yield results
    finally:
        for measurement in running:
            measurement.stop.set()
            measurement.finished.wait(certkit_run.check_timeout)
