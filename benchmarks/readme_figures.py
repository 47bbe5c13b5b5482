"""The README's table of measured figures, written from benchmarks/results/ (never by hand).

    .venv/bin/python benchmarks/readme_figures.py          # rewrite the table in README.md
    .venv/bin/python benchmarks/readme_figures.py --check  # exit 1 if README.md is stale

The README is plain Markdown (GitHub shows it, Sphinx does not build it), so it cannot use the
docs' {measured} role. Instead the block between the two marker comments is generated from the
same files with the same lookup (docs/_ext/measured.py), and tests/docs/test_readme_figures.py
fails when the README differs from what this script writes: a re-run benchmark makes the README
stale until this script runs, and a figure no benchmark wrote cannot appear at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from measured import MissingFigure, lookup, render  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
BEGIN = "<!-- figures: written by benchmarks/readme_figures.py from benchmarks/results/; do not edit -->"
END = "<!-- figures: end -->"


class Figure(NamedTuple):
    """One row: what was measured, the figure's `benchmark:dotted.key`s and a format."""

    what: str
    template: str  # "{0} of {1}": each {n} is the n-th reference, rendered
    references: tuple[str, ...]


FIGURES: tuple[Figure, ...] = (
    Figure("Exploration alone vs the dummy family's broken drivers",
           "{0} of {1} found ({2} %) at {3} s each",
           ("explore_power_dummy:found", "explore_power_dummy:drivers_total",
            "explore_power_dummy:found_percent", "explore_power_dummy:budget_seconds")),
    Figure("Exploration alone vs the CephFS family's broken drivers (Ceph lab)",
           "{0} of {1} found ({2} %) at {3} s each, median {4} s; the broken driver's own fault "
           "in {5} of {6} replayed (the rest: Manila's CephFSDriver diverges the same way)",
           ("explore_power_cephfs:found", "explore_power_cephfs:drivers_total",
            "explore_power_cephfs:found_percent", "explore_power_cephfs:budget_seconds",
            "explore_power_cephfs:median_seconds_to_find", "explore_power_cephfs:own_fault",
            "explore_power_cephfs:replayed")),
    Figure("Exploration throughput on the dummy, 20-minute run",
           "{0} steps per CPU-second; memory {1} → {2} MiB",
           ("explore_throughput:steps_per_cpu_second", "explore_throughput:rss_mib_early",
            "explore_throughput:rss_mib_late")),
    Figure("Exploration of Manila's CephFS driver, native (cephx), 20 minutes on the Ceph lab",
           "{0} steps/s ({1} per CPU-second) at load {2}-{3}; peak memory {4} → {5} MiB; "
           "{6} divergence(s), each triaged in docs/findings/",
           ("explore_throughput_cephfs_native:steps_per_second",
            "explore_throughput_cephfs_native:steps_per_cpu_second",
            "explore_throughput_cephfs_native:load_min", "explore_throughput_cephfs_native:load_max",
            "explore_throughput_cephfs_native:rss_mib_early", "explore_throughput_cephfs_native:rss_mib_late",
            "explore_throughput_cephfs_native:counterexamples")),
    Figure("Exploration of Manila's CephFS driver through NFS-Ganesha, 20 minutes on the Ceph lab",
           "{0} steps/s ({1} per CPU-second) at load {2}-{3}; peak memory {4} → {5} MiB; "
           "{6} divergence(s), each triaged in docs/findings/",
           ("explore_throughput_cephfs_nfs:steps_per_second",
            "explore_throughput_cephfs_nfs:steps_per_cpu_second",
            "explore_throughput_cephfs_nfs:load_min", "explore_throughput_cephfs_nfs:load_max",
            "explore_throughput_cephfs_nfs:rss_mib_early", "explore_throughput_cephfs_nfs:rss_mib_late",
            "explore_throughput_cephfs_nfs:counterexamples")),
    Figure("GlusterFS lab up, cold / warm", "{0} s / {1} s; {2} MiB for all daemons (load {3})",
           ("glusterfs_lab:cold_up_s", "glusterfs_lab:warm_up_s", "glusterfs_lab:memory_total_mib",
            "glusterfs_lab:load_1min_at_cold_up")),
    Figure("GlusterFS directory layout, contract + data path", "{0} in {1} s",
           ("glusterfs_lab:certification.directory_mapped_layout.verdict",
            "glusterfs_lab:certification.directory_mapped_layout.wall_s")),
    Figure("GlusterFS directory layout through the live Manila tier (tempest's SharesNFSTest and "
           "certkit's live checks; the whole plugin not yet run)",
           "{0}: share {1}, ensure_shares {2}, access_ip {3}, access_ro {4}, extend {5}; tempest "
           "{6} of {7} passed; {8} objects leaked; {9} s at load {10}",
           ("glusterfs_live:verdict", "glusterfs_live:features.share", "glusterfs_live:features.ensure_shares",
            "glusterfs_live:features.access_ip", "glusterfs_live:features.access_ro",
            "glusterfs_live:features.extend", "glusterfs_live:tempest_passed", "glusterfs_live:tempest_tests",
            "glusterfs_live:leaked_objects", "glusterfs_live:wall_s", "glusterfs_live:load_before")),
    Figure("Manila live lab up (MariaDB), cold / warm", "{0} s / {1} s; {2} MiB for all services",
           ("live_lab:mariadb.cold_up_s", "live_lab:mariadb.warm_up_s",
            "live_lab:mariadb.memory_total_mib")),
    Figure("Zuul lab up, cold (Zuul's venv and the node's mirror cached; the node's image baked)",
           "{0} s (load {1}); memory after up: ZooKeeper {2}, scheduler {3}, executor {4}, web {5}, "
           "launcher {6} MiB",
           ("zuul_lab:cold_up_s", "zuul_lab:cold_up_load_1m", "zuul_lab:memory_mib.zookeeper",
            "zuul_lab:memory_mib.scheduler", "zuul_lab:memory_mib.executor", "zuul_lab:memory_mib.web",
            "zuul_lab:memory_mib.launcher")),
    Figure("10 changes uploaded at once to the Zuul lab (one static node)",
           "all voted in {0} s; one vote each: {1} (load {2})",
           ("zuul_lab:ten_changes.all_voted_s", "zuul_lab:ten_changes.one_vote_each",
            "zuul_lab:ten_changes.load_1m")),
    Figure("Patch set → job start → vote, real Zuul vs `certkit ci listen` (same job, same Gerrit)",
           "Zuul {0} s + {1} s = {2} s (load {3}); listener {4} s + {5} s = {6} s (load {7})",
           ("zuul_lab:zuul_latency_s.event_to_job_start", "zuul_lab:zuul_latency_s.job_start_to_vote",
            "zuul_lab:zuul_latency_s.event_to_vote", "zuul_lab:zuul_latency_s.load_1m",
            "zuul_lab:listener_latency_s.event_to_job_start", "zuul_lab:listener_latency_s.job_start_to_vote",
            "zuul_lab:listener_latency_s.event_to_vote", "zuul_lab:listener_latency_s.load_1m")),
    Figure("Whole manila-tempest-plugin against the dummy (MariaDB)",
           "{0} passed, {1} failed ({2} known environment failures, {3} superseded by a "
           "certkit check), {4} skipped",
           ("live_tempest:passed", "live_tempest:failed", "live_tempest:known_failures_applying",
            "live_tempest:superseded_applying", "live_tempest:skipped")),
)
"""The rows, in the README's order."""


def table(results: Path = RESULTS) -> str:
    """The README block, markers included; MissingFigure names a figure no benchmark wrote."""
    rows = [BEGIN, "| measured | figure | benchmark |", "|---|---|---|"]
    for figure in FIGURES:
        values = [render(lookup(results, reference)) for reference in figure.references]
        benchmarks = sorted({reference.partition(":")[0] for reference in figure.references})
        rows.append(f"| {figure.what} | {figure.template.format(*values)} | "
                    f"{', '.join(f'`{name}`' for name in benchmarks)} |")
    rows.append(END)
    return "\n".join(rows)


def rewritten(readme: str, block: str) -> str:
    """`readme` with its figures block replaced; ValueError if the markers are missing."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md: no figures block ({BEGIN!r} ... {END!r})")
    return readme[:start] + block + readme[end + len(END):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    args = parser.parse_args(argv)
    try:
        current = README.read_text()
        updated = rewritten(current, table())
    except (MissingFigure, ValueError) as exc:
        print(f"readme_figures: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if updated != current:
            print("README.md: the figures block is stale; run benchmarks/readme_figures.py",
                  file=sys.stderr)
            return 1
        return 0
    if updated != current:
        README.write_text(updated)
        print("README.md: figures block rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
