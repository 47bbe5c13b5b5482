"""Benchmark: `make docs`, the documentation site's build and its internal link check.

Times a clean build (no previous output; the generated reference and catalogue pages are
rewritten), an incremental rebuild with nothing changed, and the internal link check over the
built site. Prints the figures and writes benchmarks/results/docs_build.json.

    .venv/bin/python benchmarks/docs_build.py
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import record

ROOT = Path(__file__).resolve().parent.parent
SPHINX = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
# The pages quote this benchmark's own figures, which it is about to measure (a first run has
# none, a new key is not there yet): in the timed builds they render as pending; `make docs`
# and tests/docs/test_site.py still fail on any missing one.
PENDING = ["-D", "measured_pending=docs_build"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str]) -> float:
    """Wall seconds of one command; exits with its output when it fails."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"benchmark: {' '.join(args[2:4])} failed (exit {done.returncode}):\n"
                 f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds


def main() -> int:
    out = Path(tempfile.mkdtemp(prefix="certkit-docs-bench-"))
    try:
        for generated in ("reference", "checks"):
            shutil.rmtree(ROOT / "docs" / generated, ignore_errors=True)
        cpu = children_cpu()
        clean = timed([*SPHINX, *PENDING, "docs", str(out / "html")])
        clean_cpu = children_cpu() - cpu
        incremental = timed([*SPHINX, *PENDING, "docs", str(out / "html")])
        links = timed([sys.executable, "docs/_ext/internal_links.py", str(out / "html")])
        pages = sum(1 for _ in (out / "html").rglob("*.html"))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"machine:            {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"clean build:        {clean:.1f} s wall, {clean_cpu:.1f} s CPU ({pages} pages)")
    print(f"incremental build:  {incremental:.1f} s (nothing changed)")
    print(f"internal links:     {links:.1f} s, none broken")
    record("docs_build", {"build_s": round(clean, 1), "build_cpu_s": round(clean_cpu, 1), "incremental_s": round(incremental, 1),
                          "link_check_s": round(links, 1), "make_docs_s": round(clean + links, 1),
                          "pages": pages, "broken_links": 0})
    return 0


if __name__ == "__main__":
    sys.exit(main())
