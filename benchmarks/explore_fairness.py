"""Fairness of rule choice: after how many steps each rule first runs, with Hypothesis' own rule
choice and with certkit's `FairRules`, on the model alone (no driver: only the draws are
measured, and they do not depend on the back end). Claims of driver_profiles/cephfs-native.yaml
with a data path, 8 steps per sequence, seeds 1..N; writes benchmarks/results/explore_fairness.json.

    .venv/bin/python benchmarks/explore_fairness.py [--seeds 30] [--examples 100]

With `--mix`: the rules' shares of the steps in the first `--examples` sequences of a
budget-bound exploration (as long as a CephFS lab run: about 35 sequences of 20 steps), and how
many sequences wrote, then snapshotted, then cloned; `--generation` sets the examples per
Hypothesis run (certkit.explore.exploration.GENERATION) and `--hypothesis-order` puts the rules
in Hypothesis' own order (fewest arguments first), to compare. Prints only.

    .venv/bin/python benchmarks/explore_fairness.py --mix --seeds 4 --examples 35 [--generation 500] [--hypothesis-order]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from results import record  # noqa: E402

from certkit.explore.executor import crowd  # noqa: E402
from certkit.explore.machine import Claims, Stats, build_machine  # noqa: E402
from certkit.explore.model import Refused, ShareModel  # noqa: E402

CLAIMS = Claims(frozenset({"share", "snapshot", "create_from_snapshot", "extend", "shrink", "ensure_shares"}),
                ("rw", "ro"), data_path=True, max_size=4)


class ModelOnly:
    """An executor that applies each step to the model only and notes when each rule first ran."""

    def __init__(self, first_seen: dict[str, int], counter: list[int]) -> None:
        self.model, self.steps = ShareModel(), []
        self.first_seen, self.counter = first_seen, counter

    def apply(self, step) -> None:
        self.steps.append(step)
        self.counter[0] += 1
        self.first_seen.setdefault(step.rule, self.counter[0])
        a, m = step.args, self.model
        rules = m.shares[a["share"]].rules if "share" in a and a["share"] in m.shares else {}
        if step.rule == "create_share":
            m.create_share(a["share"], a["size"])
        elif step.rule == "snapshot":
            m.snapshot(a["snapshot"], a["share"])
        elif step.rule == "share_from_snapshot":
            m.share_from_snapshot(a["share"], a["snapshot"], a["size"])
        elif step.rule == "delete_share":
            m.delete_share(a["share"])
        elif step.rule == "delete_snapshot":
            m.delete_snapshot(a["snapshot"])
        elif step.rule in ("extend", "shrink"):
            try:
                m.resize(a["share"], a["size"])
            except Refused:
                pass
        elif step.rule == "revert":
            m.revert(a["snapshot"])
        elif step.rule == "grant":
            m.set_rules(a["share"], {**rules, **dict(a["rules"])})
        elif step.rule == "grant_crowd":
            m.set_rules(a["share"], {**rules, **{i: a["level"] for i in crowd(a["first"], a["count"])}})
        elif step.rule == "deny":
            m.set_rules(a["share"], {i: lv for i, lv in rules.items() if i not in a["identities"]})
        elif step.rule == "change_access":
            m.set_rules(a["share"], {**{i: lv for i, lv in rules.items() if i not in a["deny"]},
                                     **dict(a["add"])})
        elif step.rule == "write":
            m.write(a["share"], a["path"], a["content"])
        elif step.rule == "fill":
            m.fill(a["share"], a["mib"])

    def observe(self) -> None:
        pass

    def cleanup(self) -> None:
        pass


def first_steps(seed: int, examples: int, hypothesis_choice: bool) -> tuple[dict[str, int], int]:
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.stateful import RuleStrategy, run_state_machine_as_test

    first_seen: dict[str, int] = {}
    counter = [0]
    machine = build_machine(CLAIMS, lambda: ModelOnly(first_seen, counter), Stats(), time.monotonic() + 1e9)
    if hypothesis_choice:
        fair = machine

        class Plain(fair):  # type: ignore[valid-type, misc]
            def __init__(self) -> None:
                super().__init__()
                self._rules_strategy = RuleStrategy(self)

        machine = Plain
    hypothesis_seed(seed)(machine)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=examples, stateful_step_count=8, deadline=None, database=None,
        suppress_health_check=list(HealthCheck), phases=[Phase.generate]))
    return first_seen, counter[0]


def mix(seeds: int, examples: int) -> None:
    """The first `examples` sequences of a budget-bound exploration of each seed, model only."""
    from collections import Counter

    from certkit.explore.exploration import ExploreOptions, explore
    from certkit.explore.machine import BudgetSpent

    taken: Counter = Counter()
    cloned = 0
    for seed in range(1, seeds + 1):
        made: list[ModelOnly] = []

        def new(made: list[ModelOnly] = made) -> ModelOnly:
            if len(made) >= examples:
                raise BudgetSpent()
            made.append(ModelOnly({}, [0]))
            return made[-1]

        explore(CLAIMS, new, ExploreOptions(budget=1e9, steps=20, seed=seed))
        for ex in made:
            rules = [s.rule for s in ex.steps]
            taken.update(rules)
            after = rules[rules.index("write"):] if "write" in rules else []
            cloned += "snapshot" in after and "share_from_snapshot" in after[after.index("snapshot"):]
    total = sum(taken.values())
    print(f"{total} steps in {seeds} x {examples} sequences; {cloned} wrote, snapshotted and cloned; "
          + ", ".join(f"{r} {100 * n / total:.0f} %" for r, n in taken.most_common()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--mix", action="store_true", help="the rule mix of a lab-long exploration")
    parser.add_argument("--generation", type=int, help="examples per Hypothesis run (with --mix)")
    parser.add_argument("--hypothesis-order", action="store_true", help="Hypothesis' rule order (with --mix)")
    args = parser.parse_args()
    if args.mix:
        from certkit.explore import exploration, machine
        if args.generation:
            exploration.GENERATION = args.generation
        if args.hypothesis_order:
            machine.ORDER = ()
        mix(args.seeds, args.examples)
        return 0
    figures: dict = {"seeds": args.seeds, "examples_per_seed": args.examples, "steps_per_example": 8}
    for name, plain in (("hypothesis", True), ("fair", False)):
        runs = [first_steps(seed, args.examples, plain) for seed in range(1, args.seeds + 1)]
        rules = sorted({r for seen, _ in runs for r in seen})
        per_rule = {}
        for rule in rules:  # a rule never run in a seed counts as all of that seed's steps
            per_rule[rule] = statistics.median(seen.get(rule, total) for seen, total in runs)
        figures[name] = {"median_steps_to_first": per_rule,
                         "worst_rule_median": max(per_rule.values()),
                         "median_steps_to_first_deny": per_rule.get("deny")}
        print(f"{name:>10}: median steps until each rule first runs: "
              + ", ".join(f"{r} {v:g}" for r, v in sorted(per_rule.items(), key=lambda kv: kv[1])))
    record("explore_fairness", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
