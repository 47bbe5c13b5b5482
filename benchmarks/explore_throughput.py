"""Cost of exploration: steps per second and memory over one long run against the DummyDriver
(in process, what `certkit run driver_profiles/manila-dummy.yaml --suite explore` does), with
the resident memory sampled every 10 s; writes benchmarks/results/explore_throughput.json.

    .venv/bin/python benchmarks/explore_throughput.py [--seconds 1200] [--seed 1]

Memory is flat when the peak resident memory of the last samples is no higher than after the
first minutes plus a small margin (Hypothesis keeps a tree of the choices it made, which grows slowly).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from results import record  # noqa: E402


def rss_mib() -> float:
    """Peak resident memory so far (it stops rising when memory is flat)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1200.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    from manila import context

    from certkit.explore.binding import claims_of, executor_factory
    from certkit.explore.exploration import ExploreOptions, explore
    from certkit.profile import load_profile
    from certkit.session import CertificationRun

    profile = load_profile(ROOT / "driver_profiles" / "manila-dummy.yaml")
    run = CertificationRun(profile)
    dut = run.driver()
    models = run.model_factory(None)
    samples: list[dict] = []
    start = time.monotonic()
    cpu_start = time.process_time()

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)  # (stdout is Hypothesis', silenced)
        samples.append({"seconds": round(time.monotonic() - start, 1), "rss_mib": round(rss_mib(), 1),
                        "line": line})

    result = explore(claims_of(profile, False),
                     executor_factory(run, dut, context.get_admin_context(), models, None),
                     ExploreOptions(budget=args.seconds, steps=args.steps, seed=args.seed),
                     progress=progress)
    cpu = time.process_time() - cpu_start
    run.finish_cleanup()
    section = result.to_report()
    early = [s["rss_mib"] for s in samples if 60 <= s["seconds"] <= 180] or [samples[0]["rss_mib"]]
    late = [s["rss_mib"] for s in samples[-6:]]
    figures = {
        "seconds": round(result.elapsed, 1), "examples": section["examples"], "steps": section["steps"],
        "steps_per_second": section["steps_per_second"], "distinct_states": section["distinct_states"],
        # On a shared machine the wall-clock rate measures the load: the rate per CPU-second is
        # what one idle core gives (the exploration is single-threaded).
        "cpu_seconds": round(cpu, 1), "steps_per_cpu_second": round(section["steps"] / max(cpu, 1e-9), 1),
        "rules": section["rules"], "counterexample": section["counterexample"],
        "rss_mib_early": max(early), "rss_mib_late": max(late),
        "rss_growth_mib": round(max(late) - max(early), 1),
        "leaks": len(run.ledger.leaks), "samples": [{k: s[k] for k in ("seconds", "rss_mib")} for s in samples],
    }
    print(f"{figures['steps']} steps in {figures['seconds']} s: {figures['steps_per_second']} steps/s "
          f"({figures['steps_per_cpu_second']} per CPU-second); "
          f"RSS {figures['rss_mib_early']} MiB after the first minutes, {figures['rss_mib_late']} MiB at the end")
    record("explore_throughput", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
