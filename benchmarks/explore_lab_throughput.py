"""Cost of exploration on a real back end: `certkit run PROFILE --suite explore` (alone, no
contract or data-path suite) for a total exploring time, with its resident memory (current and
peak) and the machine's load sampled every minute; writes
benchmarks/results/explore_throughput_<profile>.json.

    flock /tmp/certkit-ceph-lab.lock sh -c 'certkit lab up cephfs && \\
        .venv/bin/python benchmarks/explore_lab_throughput.py --profile driver_profiles/cephfs-nfs.yaml \\
        --seconds 1200; certkit lab down cephfs'

An exploration stops at its first divergence (shrunk, saved as a replay file). So that a run
explores for the whole time asked, the benchmark then starts the next segment, a new
`certkit run` with the next seed, a fresh example database (the old one would replay the same
divergence first) and the time left; every segment's counterexample is listed for triage
(docs/findings/). Memory is sampled per process: a segment that ends starts a new process, so
"flat" is judged within the longest segment. SIGINT/SIGTERM are passed on to the running
`certkit run`, which cleans up what it made (its ledger), then the benchmark exits 130/143.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from results import record  # noqa: E402

SAMPLE_EVERY = 60.0


def memory_mib(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of `pid` in MiB, None once it has gone."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                      if ":" in line)
        return (round(int(fields["VmRSS"].split()[0]) / 1024, 1), round(int(fields["VmHWM"].split()[0]) / 1024, 1))
    except (OSError, KeyError, ValueError):
        return None


class Segment:
    """One `certkit run` of the exploration, sampled every minute while it runs."""

    def __init__(self, argv: list[str], log: Path, offset: float) -> None:
        self.argv = argv
        self.log = log
        self.offset = offset
        self.samples: list[dict] = []
        self.last_progress = ""

    def _read(self, stream, out) -> None:
        for line in stream:
            out.write(line)
            out.flush()
            if line.startswith("explore: "):
                self.last_progress = line.strip()

    def run(self, received: list[int]) -> tuple[int, float]:
        """Exit status and CPU seconds (user + system) of the run."""
        with open(self.log, "w") as out:
            proc = subprocess.Popen(self.argv, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                    stdout=out, stderr=subprocess.PIPE, text=True, start_new_session=True)

            def forward(signum: int, _frame: object) -> None:
                received.append(signum)
                proc.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

            previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
            reader = threading.Thread(target=self._read, args=(proc.stderr, out), daemon=True)
            reader.start()
            start = time.monotonic()
            try:
                while True:
                    try:
                        _, status, usage = os.wait4(proc.pid, os.WNOHANG)
                    except ChildProcessError:
                        status, usage = 0, None
                        break
                    if _:
                        break
                    now = time.monotonic() - start
                    if not self.samples or now - (self.samples[-1]["seconds"] - self.offset) >= SAMPLE_EVERY:
                        memory = memory_mib(proc.pid)
                        if memory:
                            self.samples.append({"seconds": round(self.offset + now, 1), "rss_mib": memory[0],
                                                 "peak_rss_mib": memory[1], "load": round(os.getloadavg()[0], 1),
                                                 "progress": self.last_progress})
                    time.sleep(1)
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)
            reader.join(timeout=10)
            proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = (usage.ru_utime + usage.ru_stime) if usage else 0.0
        return proc.returncode, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, type=Path)
    parser.add_argument("--seconds", type=float, default=1200.0, help="total exploring time (default 1200)")
    parser.add_argument("--seed", type=int, default=1, help="the first segment's seed; then +1 each")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--work", type=Path, default=None,
                        help="where reports, logs and replay files go (default reports/<name>/)")
    parser.add_argument("--name", default=None, help="results name (default explore_throughput_<profile>)")
    args = parser.parse_args()
    profile = args.profile.resolve()
    name = args.name or "explore_throughput_" + profile.stem.replace("-", "_")
    work = (args.work or ROOT / "reports" / name).resolve()
    work.mkdir(parents=True, exist_ok=True)
    received: list[int] = []
    segments: list[dict] = []
    samples: list[dict] = []
    began = time.monotonic()
    loads = [round(os.getloadavg()[0], 1)]
    while not received:
        left = args.seconds - (time.monotonic() - began)
        if left < 60:
            break
        n = len(segments)
        directory = work / f"segment-{n}"
        directory.mkdir(exist_ok=True)
        seed = args.seed + n
        argv = [sys.executable, "-m", "certkit.cli", "run", str(profile), "--no-audit", "--suite", "explore",
                "--explore-budget", f"{left:.0f}", "--explore-seed", str(seed),
                "--explore-steps", str(args.steps), "--report", str(directory / "report.json")]
        segment = Segment(argv, directory / "run.log", time.monotonic() - began)
        print(f"segment {n}: seed {seed}, budget {left:.0f} s", flush=True)
        status, cpu = segment.run(received)
        samples += [{**s, "segment": n} for s in segment.samples]
        report_path = directory / "report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        section = report.get("explore") or {}
        found = section.get("counterexample")
        segments.append({
            "seed": seed, "exit": status, "cpu_seconds": round(cpu, 1),
            "seconds": section.get("elapsed_seconds"), "examples": section.get("examples"),
            "steps": section.get("steps"), "steps_per_second": section.get("steps_per_second"),
            "distinct_states": section.get("distinct_states"), "rules": section.get("rules"),
            "leaks": len(report.get("leaks", [])) if report else None,
            "counterexample": None if not found else {
                "failure": found["failure"], "divergence": found["divergence"],
                "replay_file": found.get("replay_file"),
                "steps": [f"{s['rule']}({', '.join(f'{k}={v!r}' for k, v in s['args'].items())})"
                          for s in found["steps"]]},
            "error": None if report else segment.last_progress or f"no report (exit {status}), log {segment.log}",
            "report": str(report_path)})
        loads.append(round(os.getloadavg()[0], 1))
        row = segments[-1]
        print(f"segment {n}: {row['steps']} steps in {row['seconds']} s, exit {status}"
              + (f", counterexample: {found['failure']}" if found else ""), flush=True)
        if not report:
            break
    if received:
        print(f"explore_lab_throughput: stopped by signal {received[0]}", file=sys.stderr)
        return 128 + received[0]
    steps = sum(s["steps"] or 0 for s in segments)
    explored = sum(s["seconds"] or 0 for s in segments)
    cpu = sum(s["cpu_seconds"] for s in segments)
    longest = max(range(len(segments)), key=lambda i: segments[i]["seconds"] or 0) if segments else None
    own = [s for s in samples if s["segment"] == longest]  # memory is judged within one process
    first = own[0]["seconds"] if own else 0
    early = [s["peak_rss_mib"] for s in own if 60 <= s["seconds"] - first <= 240] or \
        [s["peak_rss_mib"] for s in own[:1]]
    figures = {
        "profile": str(args.profile), "seed": args.seed, "steps_per_example": args.steps,
        "seconds": round(explored, 1), "wall_seconds": round(time.monotonic() - began, 1),
        "segments_run": len(segments), "steps": steps,
        "steps_per_second": round(steps / max(explored, 1e-9), 2),
        "cpu_seconds": round(cpu, 1), "steps_per_cpu_second": round(steps / max(cpu, 1e-9), 2),
        "examples": sum(s["examples"] or 0 for s in segments),
        "counterexamples": sum(1 for s in segments if s["counterexample"]),
        "leaks": sum(s["leaks"] or 0 for s in segments),
        "rss_mib_early": max(early) if early else None,
        "rss_mib_late": max(s["peak_rss_mib"] for s in own[-3:]) if own else None,
        "load_min": min([*loads, *(s["load"] for s in samples)]),
        "load_max": max([*loads, *(s["load"] for s in samples)]),
        "segments": segments, "samples": samples, "longest_segment": longest,
    }
    figures["rss_growth_mib"] = (round(figures["rss_mib_late"] - figures["rss_mib_early"], 1)
                                 if own else None)
    print(f"{steps} steps in {figures['seconds']} s explored ({len(segments)} segment(s)): "
          f"{figures['steps_per_second']} steps/s ({figures['steps_per_cpu_second']} per CPU-second); "
          f"peak RSS {figures['rss_mib_early']} MiB after the first minutes, {figures['rss_mib_late']} MiB "
          f"at the end; load {figures['load_min']}-{figures['load_max']}; "
          f"{figures['counterexamples']} counterexample(s), {figures['leaks']} leak(s)")
    record(name, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
