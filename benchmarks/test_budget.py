"""Benchmark: `make test`'s budget, lane by lane (ci/run_tests.py), against CI's 20 minutes on 2 cores.

Runs the lanes as `make test` does (CERTKIT_REQUIRE_LAB=1, as CI) with pytest's --durations=0,
or reads the output of such a run (`--from-log`), and writes per lane: exit status, wall and CPU
seconds (the lane's process and every child it reaped), tests passed and skipped, the time spent
in fixture set-up, calls and teardown, and the slowest items; plus the lab start-up figures the
tests print (tests/conftest.py FIGURES). Prints them and writes benchmarks/results/test_budget.json.

    .venv/bin/python benchmarks/test_budget.py                     # runs the whole test suite
    .venv/bin/python benchmarks/test_budget.py --from-log run.log  # a `ci/run_tests.py --durations=0` log
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from results import record

ROOT = Path(__file__).resolve().parent.parent
LANE_HEADER = re.compile(r"^==== lane (\S+): ")
LANE_FIGURES = re.compile(r"^lane (\S+): exit (-?\d+), (\d+) s wall, (\d+) s CPU$")
DURATION = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(\S+)")
FIGURE = re.compile(r"^(.*lab up.*|.*lab down.*|manila \d+ venv.*): ([\d.]+) s")


def split_lanes(text: str) -> dict[str, list[str]]:
    """Each lane's lines: `rest` prints first, the others after a `==== lane NAME:` header."""
    lanes: dict[str, list[str]] = {"rest": []}
    current = "rest"
    for line in text.splitlines():
        header = LANE_HEADER.match(line)
        if header:
            current = header.group(1)
            lanes[current] = []
        elif line.startswith("==== lanes ===="):
            current = "summary"
            lanes[current] = []
        else:
            lanes[current].append(line)
    return lanes


def lane_figures(lines: list[str]) -> dict:
    phases = {"setup": 0.0, "call": 0.0, "teardown": 0.0}
    items: dict[str, float] = {}
    counts: dict[str, int] = {"passed": 0, "skipped": 0, "failed": 0}
    for line in lines:
        duration = DURATION.match(line)
        if duration:
            seconds, phase, item = float(duration.group(1)), duration.group(2), duration.group(3)
            phases[phase] += seconds
            items[item] = items.get(item, 0.0) + seconds
        if re.search(r"\d+ (passed|skipped|failed)\b.* in [\d.]+s", line):  # pytest's last line
            counts.update({kind: int(n) for n, kind in re.findall(r"(\d+) (passed|skipped|failed)", line)})
    slowest = sorted(items.items(), key=lambda kv: -kv[1])[:8]
    return {"interrupted": any("KeyboardInterrupt" in line for line in lines),
            "setup_s": round(phases["setup"]), "call_s": round(phases["call"]),
            "teardown_s": round(phases["teardown"]), **counts,
            "slowest": {item: round(seconds) for item, seconds in slowest}}


def figures_from(text: str) -> dict:
    lanes = split_lanes(text)
    result: dict = {"lanes": {}, "labs": {}}
    for line in lanes.get("summary", []):
        found = LANE_FIGURES.match(line.strip())
        if found:
            name, status, wall, cpu = found.groups()
            key = name.replace("-", "_")
            result["lanes"][key] = {"exit": int(status), "wall_s": int(wall), "cpu_s": int(cpu),
                                    **lane_figures(lanes.get(name, []))}
    for line in text.splitlines():
        figure = FIGURE.match(line.strip())
        if figure:
            slug = re.sub(r"[^a-z0-9]+", "_", figure.group(1).lower()).strip("_")
            result["labs"][slug] = float(figure.group(2))
    if not result["lanes"]:
        sys.exit("no `lane NAME: exit N, W s wall, C s CPU` lines: not a ci/run_tests.py log")
    result["wall_s"] = max(lane["wall_s"] for lane in result["lanes"].values())
    result["cpu_s"] = sum(lane["cpu_s"] for lane in result["lanes"].values())
    result["budget_s"] = 20 * 60
    result["room_s"] = result["budget_s"] - result["wall_s"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-log", type=Path, help="the output of `ci/run_tests.py --durations=0`")
    args = parser.parse_args()
    if args.from_log:
        text = args.from_log.read_text(errors="replace")
    else:
        done = subprocess.run([sys.executable, "ci/run_tests.py", "--durations=0"], cwd=ROOT,
                              text=True, capture_output=True,
                              env={**os.environ, "CERTKIT_REQUIRE_LAB": "1"})
        text = done.stdout
    figures = figures_from(text)
    for name, lane in figures["lanes"].items():
        print(f"lane {name}: exit {lane['exit']}, {lane['wall_s']} s wall, {lane['cpu_s']} s CPU, "
              f"{lane.get('passed', 0)} passed, {lane.get('skipped', 0)} skipped; set-up "
              f"{lane['setup_s']} s, calls {lane['call_s']} s, teardown {lane['teardown_s']} s")
        for item, seconds in lane["slowest"].items():
            print(f"    {seconds:5d} s  {item}")
    for name, seconds in figures["labs"].items():
        print(f"{name}: {seconds} s")
    print(f"whole run: {figures['wall_s']} s wall of {figures['budget_s']}, {figures['cpu_s']} s CPU")
    record("test_budget", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
