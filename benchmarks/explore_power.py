"""Power without hand-written cases: exploration ALONE (`--suite explore`, no contract or
data-path suite) against every broken driver, each within a time budget; prints each minimal
sequence and writes benchmarks/results/explore_power[_<family>].json.

    .venv/bin/python benchmarks/explore_power.py --family dummy [--budget 300] [--only NAME ...]
    flock /tmp/certkit-ceph-lab.lock sh -c 'certkit lab up cephfs && \\
        .venv/bin/python benchmarks/explore_power.py --family cephfs --budget 120; certkit lab down cephfs'

`dummy`: the drivers of tests/broken/ whose fault lies in what the model covers (shares,
snapshots, clones, resizes, reverts, access rules, restarts), observed through what the driver
returns (the DummyDriver stores nothing: no data path). `cephfs`: every driver of
tests/broken_cephfs.py on the CephFS lab, observed from its client host. Each driver runs in its
own `certkit run` process, as a vendor's would.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from results import record  # noqa: E402

from certkit.explore.steps import Step, write_replay  # noqa: E402

DUMMY_DRIVERS = {
    # lifecycle: shares, snapshots, clones, access, resize
    "tests.broken.lifecycle.ExportLocationsWrongShape": (),
    "tests.broken.lifecycle.NoExportLocations": (),
    "tests.broken.lifecycle.ShareFromSnapshotWithoutStatus": (),
    "tests.broken.lifecycle.ShareFromSnapshotNeverAvailable": (),
    "tests.broken.lifecycle.AccessUpdatesKeyedByMappingId": (),
    "tests.broken.lifecycle.DenyOfUnknownRuleRaises": (),
    "tests.broken.lifecycle.RecoveryModeUnsupported": (),
    "tests.broken.lifecycle.ReadOnlyRulesRejected": (),
    "tests.broken.lifecycle.ExtendRaisesBare": (),
    "tests.broken.lifecycle.ShrinkNotImplemented": (),
    "tests.broken.lifecycle.DeleteShareFails": (),
    # extended: revert, restart, rules, export paths
    "tests.broken.extended.RevertReturnsWrongStatus": (),
    "tests.broken.extended.RevertNeverCompletes": (),
    "tests.broken.extended.BackendInfoUnstable": (),
    "tests.broken.extended.LostStateAfterRestart": (),
    "tests.broken.extended.EnsureSharesWrongShape": (),
    "tests.broken.extended.RulesBeyondHundredFail": (),
    "tests.broken.extended.ReappliedRuleRaises": (),
    "tests.broken.extended.SharedExportPath": (),
}
"""Broken DummyDriver subclasses whose fault is in an operation the model covers (extra
features each needs claimed)."""

CEPHFS_DRIVERS = {
    "DenyDoesNotDeauthorize": (), "RevertIsNoop": ("revert_to_snapshot",), "ExtendIgnored": (),
    "KeysWithoutAuthorization": (), "GrantsEverythingReadOnly": (), "GrantsEverythingReadWrite": (),
    "RoAppliedReadWriteInManila": (), "RulesLeakAcrossShares": (), "ShrinkIgnoresUsedData": (),
    "ShareFromSnapshotIsEmpty": (), "LevelFromFirstRule": (), "DenyRevokesEveryone": (),
    "ExtendsNewestShare": (), "CloneFromLatestSnapshot": (), "BatchAppliesOnlyFirst": (),
    "BatchDeletesOnlyFirst": (), "FullListModeIsNoop": (), "ExtendByOne": (), "ShrinkUndone": (),
    "DenyForgetsAfterRestart": (),
}
"""Every driver of tests/broken_cephfs.py (features each needs claimed beyond the profile's)."""


def profile_for(family: str, driver: str, extra: tuple[str, ...], directory: Path) -> Path:
    base = ROOT / "driver_profiles" / ("manila-dummy.yaml" if family == "dummy" else "cephfs-native.yaml")
    text = base.read_text()
    if family == "dummy":
        text = text.replace("manila.tests.share.drivers.dummy.DummyDriver", driver)
        # As tests/test_contract_checks_catch_violations.py runs broken drivers: a driver that
        # never reaches 'available' costs a second per poll, not a minute per shrinking step.
        text += "timeouts: {status_poll: 1, cleanup: 5}\n"
    else:
        text = text.replace("manila.share.drivers.cephfs.driver.CephFSDriver",
                            f"tests.broken_cephfs.{driver}")
        text = text.replace("  - ensure_shares\n", "  - ensure_shares\n" + "".join(f"  - {f}\n" for f in extra))
    path = directory / f"{driver.rsplit('.', 1)[-1]}.yaml"
    path.write_text(text)
    return path


def lab_env(family: str) -> dict[str, str]:
    """What the profile reads to reach the lab (`certkit lab env cephfs`): the running CephFS
    lab's cluster and client host, on whichever client namespace CERTKIT_LAB_NETNS names (a
    second lab on the same machine is reached at its own addresses, not the profile's
    defaults). Nothing for the dummy."""
    if family != "cephfs":
        return {}
    from certkit.lab.cephfs import CephFSLab

    lab = CephFSLab()
    if not lab.cluster.conf.exists():
        sys.exit(f"explore_power: the CephFS lab is not up (no {lab.cluster.conf}): run "
                 "`certkit lab up cephfs` first")
    return lab.env()


def run_forwarding_signals(argv: list[str], timeout: float,
                           env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `certkit run` as a child; SIGINT and SIGTERM given to the benchmark are passed on to
    it and the benchmark waits for it to clean up (its ledger deletes what it made), then exits
    130 / 143 itself. A child past `timeout` (1.5 budgets bound a run) is interrupted the same way."""
    proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # a terminal's Ctrl-C reaches it once, from us
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        proc.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        print(f"explore_power: stopped by signal {received[0]}; the run cleaned up "
              f"(exit {proc.returncode})", file=sys.stderr)
        sys.exit(128 + received[0])
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def explore_one(family: str, driver: str, extra: tuple[str, ...], budget: float, seed: int,
                steps: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="certkit-explore-power-") as tmp:
        directory = Path(tmp)
        report_path = directory / "report.json"
        start = time.monotonic()
        proc = run_forwarding_signals(
            [sys.executable, "-m", "certkit.cli", "run", str(profile_for(family, driver, extra, directory)),
             "--no-audit", "--suite", "explore", "--explore-budget", str(budget),
             "--explore-seed", str(seed), "--explore-steps", str(steps), "--report", str(report_path)],
            timeout=budget * 2 + 600, env=lab_env(family))
        elapsed = time.monotonic() - start
        if not report_path.exists():
            return {"driver": driver, "found": False, "seconds": round(elapsed, 1),
                    "error": (proc.stderr.strip().splitlines() or ["no report"])[-1][:300]}
        report = json.loads(report_path.read_text())
    section = report.get("explore") or {}
    found = section.get("counterexample")
    return {"driver": driver, "found": bool(found and found["divergence"]),
            "seconds": round(elapsed, 1), "explored_seconds": section.get("elapsed_seconds"),
            "examples": section.get("examples"), "steps": section.get("steps"),
            "minimal_steps": [f"{s['rule']}({', '.join(f'{k}={v!r}' for k, v in s['args'].items())})"
                              for s in (found or {}).get("steps", [])],
            "steps_json": (found or {}).get("steps", []),
            "steps_per_second": section.get("steps_per_second"), "rules": section.get("rules"),
            "failure": (found or {}).get("failure"), "leaks": len(report.get("leaks", []))}


def parsed_step(text: str) -> Step:
    """A step from its printed form `rule(k=v, ...)` (rows recorded before `steps_json`)."""
    call = ast.parse(text, mode="eval").body
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name), text
    return Step(call.func.id, {k.arg: ast.literal_eval(k.value) for k in call.keywords})


def replay_found(family: str, row: dict, extra: tuple[str, ...]) -> dict:
    """The row's minimal sequence replayed from a file against the broken driver and against
    the driver it breaks (the same claims): the find is the broken driver's own fault only when
    the broken driver diverges again and the base driver does not (the broken drivers subclass
    the real ones, whose own faults an exploration may find first)."""
    steps = ([Step(s["rule"], s["args"]) for s in row["steps_json"]] if row.get("steps_json")
             else [parsed_step(text) for text in row["minimal_steps"]])
    base = "manila.share.drivers.cephfs.driver.CephFSDriver" if family == "cephfs" else \
        "manila.tests.share.drivers.dummy.DummyDriver"
    outcome = {}
    with tempfile.TemporaryDirectory(prefix="certkit-explore-replay-") as tmp:
        directory = Path(tmp)
        replay_file = directory / "replay.json"
        write_replay(replay_file, steps, profile=f"{family} broken", driver=row["driver"], seed=None,
                     failure=row.get("failure") or "")
        broken = profile_for(family, row["driver"], extra, directory)
        fixed = directory / "base" / broken.name
        fixed.parent.mkdir()
        fixed.write_text(broken.read_text().replace(
            row["driver"] if family == "dummy" else f"tests.broken_cephfs.{row['driver']}", base))
        for name, profile in (("broken", broken), ("base", fixed)):
            proc = run_forwarding_signals([sys.executable, "-m", "certkit.cli", "replay", str(replay_file),
                                           "--profile", str(profile)], timeout=1800, env=lab_env(family))
            verdict = [line for line in proc.stdout.splitlines() if line.startswith(("reproduced:", "passed:"))]
            says = verdict or proc.stderr.strip().splitlines()[-1:] or ["(nothing)"]
            outcome[name] = {"exit": proc.returncode, "says": says[-1][:300]}
    # A broken driver that adds a feature its base lacks (RevertIsNoop: a revert that does
    # nothing, on a driver with none) is judged against a base that cannot run the step at all.
    unsupported = bool(extra) and outcome["base"]["exit"] == 1 and "NotImplementedError" in outcome["base"]["says"]
    return {"replay_broken": outcome["broken"], "replay_base": outcome["base"],
            "base_lacks_feature": unsupported,
            "own_fault": outcome["broken"]["exit"] == 1 and (outcome["base"]["exit"] == 0 or unsupported)}


def code_version() -> str:
    """The commit the figures come from ("+dirty" when the work tree differs from it)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    changed = git("status", "--porcelain", "--", "certkit", "benchmarks", "tests/broken_cephfs.py",
                  ":!benchmarks/results")  # the results this run writes are no change of code
    return (git("rev-parse", "--short", "HEAD") or "unknown") + ("+dirty" if changed else "")


def summary(args: argparse.Namespace, rows: list[dict]) -> dict:
    """The figures of the rows measured so far (a run is recorded after every driver)."""
    found = sum(r["found"] for r in rows)
    replayed = [r for r in rows if "own_fault" in r]
    return {"replayed": len(replayed), "own_fault": sum(r["own_fault"] for r in replayed),"family": args.family, "budget_seconds": args.budget, "seed": args.seed,
            "steps_per_example": args.steps, "drivers_total": len(rows), "found": found,
            "found_percent": round(100.0 * found / max(len(rows), 1), 1),
            "median_seconds_to_find": sorted(r["seconds"] for r in rows if r["found"])[found // 2]
            if found else None, "drivers": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=("dummy", "cephfs"), required=True)
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per driver (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--only", action="append", metavar="NAME", help="only these drivers")
    parser.add_argument("--replay-found", action="store_true",
                        help="explore nothing: replay each found row's minimal sequence against the "
                             "broken and the base driver and add the outcome to the row")
    args = parser.parse_args()
    drivers = DUMMY_DRIVERS if args.family == "dummy" else CEPHFS_DRIVERS
    chosen = {d: e for d, e in drivers.items()
              if not args.only or any(d.endswith(name) for name in args.only)}
    name = f"explore_power_{args.family}"
    results_file = ROOT / "benchmarks" / "results" / f"{name}.json"

    def earlier() -> dict[str, dict]:
        """A partial run (lab chunks, or several at once) adds to the rows on file, read again
        before every write so that runs side by side keep each other's rows."""
        if not args.only or not results_file.exists():
            return {}
        return {r["driver"]: r for r in json.loads(results_file.read_text()).get("drivers", [])}

    mine: dict[str, dict] = {}
    if args.replay_found:
        for driver, extra in chosen.items():
            row = earlier().get(driver) if args.only else None
            if row is None and results_file.exists():
                row = {r["driver"]: r for r in json.loads(results_file.read_text())["drivers"]}.get(driver)
            if not row or not row.get("found"):
                continue
            row = {**row, **replay_found(args.family, row, extra)}
            print(f"{driver}: broken driver exit {row['replay_broken']['exit']} "
                  f"({row['replay_broken']['says']}); base driver exit {row['replay_base']['exit']} "
                  f"({row['replay_base']['says']})", flush=True)
            mine[driver] = row
            previous = {**earlier(), **mine}
            record(name, summary(args, [previous[d] for d in drivers if d in previous]))
        return 0
    for driver, extra in chosen.items():
        code = code_version()  # per driver: each `certkit run` imports the tree as it is then
        row = explore_one(args.family, driver, extra, args.budget, args.seed, args.steps)
        # Where each row's figure came from: a long run (hours on a lab) shares the machine.
        row.update(code=code, load_average=round(os.getloadavg()[0], 1),
                   measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        mine[driver] = row
        previous = {**earlier(), **mine}
        verdict = "FOUND" if row["found"] else "missed"
        print(f"{verdict:<6} {driver} in {row['seconds']} s, {row.get('steps')} steps"
              f" (load {row['load_average']})"
              + (f": {row['failure']}" if row.get("failure") else f" ({row.get('error', '')})"), flush=True)
        for n, step in enumerate(row.get("minimal_steps", []), 1):
            print(f"         {n}. {step}", flush=True)
        # Recorded after every driver: an interrupted run keeps the drivers it finished.
        record(name, summary(args, [previous[d] for d in drivers if d in previous]))
    previous = {**earlier(), **mine}
    figures = summary(args, [previous[d] for d in drivers if d in previous])
    print(f"found {figures['found']} of {figures['drivers_total']} ({figures['found_percent']} %) "
          f"within {args.budget:g} s each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
