"""The dummy driver scale-verified to 10,000 shares through the real command line, with the
report's scale section, the charts and the harness's own cost per share."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from certkit.report import validate_report
from certkit.scale.analysis import OPERATIONS
from tests.conftest import FIGURES, ROOT
from tests.scale.profiles import scale_profile

N = 10_000
STEPS = [100, 1000, N]
RULES = 100


def test_dummy_verified_to_10000_shares_with_curves_and_plots(tmp_path):
    profile = scale_profile(tmp_path, target_shares=N, steps=STEPS, rules_per_share=RULES,
                            samples=20, concurrency=1)
    report_path, plots = tmp_path / "report.json", tmp_path / "plots"
    proc = subprocess.run(
        [sys.executable, "-m", "certkit.cli", "run", str(profile), "--no-audit", "--suite", "scale",
         "--report", str(report_path), "--plot", str(plots)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=1200)
    assert report_path.exists(), proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert validate_report(report) == []
    scale = report["scale"]
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["test_target_reached_without_errors"]["outcome"] == "passed", checks
    # a scale-only run is judged on the scale suite: passed, never certified (exit 0)
    assert (report["verdict"], report["scope"], proc.returncode) == ("passed", ["scale"], 0), report["reasons"]
    assert scale["verified_shares"] == N and scale["reached_shares"] == N and scale["complete"]
    assert [step["shares"] for step in scale["step_results"]] == STEPS
    # Manila's DummyDriver has no get_backend_info (NotImplementedError): not measured.
    assert "get_backend_info" not in scale["operations"]
    measured = [op for op in OPERATIONS if op.name != "get_backend_info"]
    for op in measured:
        assert scale["operations"][op.name]["exponent"] is not None, op.name
        assert scale["operations"][op.name]["points"] == len(STEPS), op.name
        for step in scale["step_results"]:
            figs = step["operations"][op.name]
            assert figs["errors"] == 0 and figs["count"] > 0, (op.name, step["shares"], figs)
            assert figs["p50"] <= figs["p95"] <= figs["p99"] <= figs["max"], (op.name, figs)
    for step in scale["step_results"]:
        assert step["operations"]["update_access_add"]["count"] == RULES
        assert step["operations"]["update_access_remove"]["count"] == RULES
        assert step["operations"]["ensure_shares"]["count"] == 1
    assert scale["step_results"][-1]["operations"]["create_share"]["count"] == N - STEPS[-2] + 20
    assert scale["teardown"]["shares"] == N and scale["teardown"]["errors"] == 0
    assert scale["teardown"]["delete_share"]["count"] == N
    assert scale["timing"]["shares_created"] == N + 20 * len(STEPS)
    assert not report["leaks"]
    # The report and the progress output do not grow with N: figures per step, throttled lines.
    assert len(report_path.read_bytes()) < 100_000
    assert len(proc.stderr.splitlines()) < 500, proc.stderr[-2000:]
    for op in measured:
        assert (plots / f"{op.name}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), op.name
        assert "<svg" in (plots / f"{op.name}.svg").read_text(), op.name
    assert f"plots:  {plots} ({len(measured)} operations, PNG and SVG)" in proc.stdout
    timing = scale["timing"]
    FIGURES["scale: dummy to 10,000 shares (3 steps, 100 rules)"] = (
        f"{timing['elapsed_seconds']:.1f} s, harness {timing['harness_ms_per_share']:.3f} ms/share, "
        f"teardown {scale['teardown']['seconds']:.1f} s")
