"""Benchmark: how often the audit's binding verdicts match real calls.

For every in-tree back end, every method it overrides and every call shape the share manager
uses for that method, the audit's static verdict (binds / cannot bind) is compared with a real
call (certkit.audit.callprobe: the method is called with placeholders and stopped as its body
starts). Prints the error precision (error findings whose call really raises TypeError) and the
agreement on every shape. `--errors-from FILE` also measures the "error" findings of another
audit JSON (e.g. one written by an older certkit) the same way.

    .venv/bin/python benchmarks/audit_precision.py [--errors-from OLD.json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from certkit.audit import audit_rows, in_tree
from certkit.audit.callprobe import BINDS, RAISES_TYPEERROR, probe_call
from certkit.audit.callshapes import shapes_by_method
from certkit.audit.signatures import bind_error, signature_of

from results import record


def _class(path: str) -> type | None:
    module, _, name = path.split(" [")[0].rpartition(".")
    try:
        return getattr(importlib.import_module(module), name, None)
    except Exception:  # noqa: BLE001
        return None


def _measure_errors(errors: list[tuple[str, str]]) -> Counter:
    """errors: (class path, method) pairs flagged "error"; outcome of the manager's shapes."""
    outcome: Counter = Counter()
    for path, method in errors:
        cls = _class(path)
        func = getattr(cls, method, None) if cls else None
        shapes = [s for s in shapes_by_method().get(method, []) if not s.star]
        if func is None or not shapes:
            outcome["no manager call / not importable"] += 1
            continue
        results = {probe_call(func, s.positional, s.keywords)[0] for s in shapes}
        outcome["raises TypeError" if RAISES_TYPEERROR in results else
                "binds" if results == {BINDS} else "inconclusive"] += 1
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors-from", metavar="FILE", help="also measure another audit JSON's errors")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = audit_rows(in_tree())
    errors = [(r.path, f.method) for r in rows for f in r.signature_findings if f.severity == "error"]
    agreement: Counter = Counter()
    for row in rows:
        if not row.imported:
            continue
        cls = _class(row.driver)
        for method in row.overridden:
            func = getattr(cls, method, None)
            sig = signature_of(func) if func else None
            for shape in shapes_by_method().get(method, []):
                if shape.star or sig is None:
                    continue
                predicted = BINDS if bind_error(sig, shape.positional, shape.keywords) is None else RAISES_TYPEERROR
                actual, _ = probe_call(func, shape.positional, shape.keywords)
                agreement[(predicted, actual)] += 1
    measured = _measure_errors(errors)
    total = sum(agreement.values())
    agree = agreement[(BINDS, BINDS)] + agreement[(RAISES_TYPEERROR, RAISES_TYPEERROR)]
    print(f"back ends:                  {len(rows)}")
    print(f"error findings:             {len(errors)}; really raise TypeError: "
          f"{measured['raises TypeError']} (precision "
          f"{measured['raises TypeError'] / len(errors):.0%})" if errors else
          "error findings:             0 (no real call fails to bind)")
    print(f"shape x override bindings:  {total}; static verdict = real call in {agree} "
          f"({agree / total:.1%}); inconclusive real calls: "
          f"{sum(v for (p, a), v in agreement.items() if a not in (BINDS, RAISES_TYPEERROR))}")
    for (predicted, actual), count in sorted(agreement.items()):
        print(f"  predicted {predicted:<17} real {actual:<17} {count}")
    if args.errors_from:
        old = json.loads(Path(args.errors_from).read_text())
        old_errors = [(d["class"], f["method"]) for d in old["drivers"]
                      for f in d["signature_findings"] if f["severity"] == "error"]
        outcome = _measure_errors(old_errors)
        print(f"{args.errors_from}: {len(old_errors)} error findings; real calls: "
              + ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))
    inconclusive = sum(v for (p, a), v in agreement.items() if a not in (BINDS, RAISES_TYPEERROR))
    record("audit_precision", {
        "back_ends": len(rows), "error_findings": len(errors),
        "error_findings_raising_typeerror": measured["raises TypeError"] if errors else 0,
        "bindings": total, "bindings_agree": agree, "bindings_inconclusive": inconclusive,
        "bindings_disagree": total - agree - inconclusive,
    })


if __name__ == "__main__":
    main()
