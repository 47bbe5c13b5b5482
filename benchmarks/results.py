"""Where a benchmark leaves its figures: benchmarks/results/<name>.json (committed).

The docs quote these files with the {measured} role (docs/_ext/measured.py), so a figure in the
docs is always one a benchmark printed. Each file holds the figures of the benchmark's last run
plus when and where it ran (`measured_at`, `machine`).
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Mapping

RESULTS = Path(__file__).resolve().parent / "results"


def record(name: str, figures: Mapping[str, Any]) -> Path:
    """Write `figures` (a flat or nested JSON object) to benchmarks/results/<name>.json."""
    document = {
        **figures,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "load_average": round(os.getloadavg()[0], 1),
                    "python": platform.python_version()},
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    temporary.replace(path)
    print(f"figures written to {path.relative_to(RESULTS.parent.parent)}")
    return path
