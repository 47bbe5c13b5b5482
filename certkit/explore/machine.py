"""The Hypothesis state machine: each `@rule` is one thing a user or the share manager may do,
its arguments drawn as widely as Manila's API allows; `@precondition`s read the model and the
profile's claims, never the driver; the `@invariant` is every observation after every step.

Objects are named by the model (`s1`, `snap2`) and drawn from its live ones, so a deleted share
is never reused and every drawn step is one the API would accept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, RuleStrategy, invariant, precondition, rule

from certkit.explore.executor import IDENTITIES, Executor, crowd_start
from certkit.explore.steps import Step

MAX_SHARES = 4
MAX_SNAPSHOTS = 3
FILES = ("a", "b", "c")
REDRAWS = 8
"""Blocked draws of a rule before FairRules moves on to the next runnable one."""
ORDER = ("create_share", "grant", "write", "snapshot", "share_from_snapshot", "grant_crowd",
         "extend", "shrink", "fill", "change_access", "revert", "reapply", "deny",
         "delete_snapshot", "delete_share", "restart", "remount")
"""FairRules' order of the rules: those that make objects, rules and data first, then those that
change them, remove them, and last the ones that only pass time (restart, remount). A random draw
does not depend on it; the simplest draw does: Hypothesis extends the first examples of a run
with the simplest choices (index 0: the first runnable rule, at every step; see
exploration.GENERATION), and its shrinker moves choices towards them. In Hypothesis' own order
(fewest arguments first) that was `remount`, then `restart` where `remount` may not run twice:
with 500 examples a run they took 43 % of the steps of the first 35 sequences of seeds 1-4
(as long as a 300 s run on the CephFS lab, where they took about half), 13 % with this order and
20 a run (benchmarks/explore_fairness.py --mix)."""


@dataclass(frozen=True)
class Claims:
    """What the profile claims, as far as the rules are concerned."""

    features: frozenset[str]
    levels: tuple[str, ...]
    data_path: bool
    max_size: int = 4
    """Shares are drawn from 1..max_size GiB (extends go up to max_size + 3)."""
    max_rules: int = 256
    """Most rules on one share (Manila sets no limit: a share mounted by every node of a
    cluster carries hundreds); a crowd grant draws its size from the whole range."""
    resend: bool = True
    """Whether the manager's re-sending of applied rules can be driven (in-process: yes)."""

    def has(self, feature: str) -> bool:
        return feature in self.features


@dataclass
class Stats:
    """What the exploration did, over every example."""

    examples: int = 0
    steps: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    states: set = field(default_factory=set)
    last: Executor | None = None
    """The executor of the latest example (after a failure: the shrunk one, run last)."""
    failing: bool = False
    """A step or an observation failed (Hypothesis is shrinking)."""
    first_failure: tuple[list, BaseException] | None = None
    """The steps and error of the first failure (what a flaky one is reported with)."""
    shortest_failure: tuple[list, BaseException] | None = None
    """The shortest failing steps so far (what is reported if shrinking runs out of time)."""
    shrink_seconds: float = float("inf")
    """How long shrinking may go on after the first failure (past the budget if need be)."""
    shrink_until: float = 0.0

    def failed(self, ex: Executor, error: BaseException) -> None:
        self.failing = True
        if self.first_failure is None:
            self.first_failure = (list(ex.steps), error)
            self.shrink_until = time.monotonic() + self.shrink_seconds
        if self.shortest_failure is None or len(ex.steps) < len(self.shortest_failure[0]):
            self.shortest_failure = (list(ex.steps), error)

    def out_of_time(self, deadline: float) -> bool:
        """Exploring stops at `deadline`; shrinking a failure at the later of `deadline` and
        `shrink_seconds` after it was found."""
        return time.monotonic() > (max(deadline, self.shrink_until) if self.failing else deadline)


class FairRules(RuleStrategy):
    """Each step's rule drawn fairly among the rules valid now.

    Hypothesis draws a rule from all rules filtered by precondition and by its swarm-testing
    flags, which in practice favours the rules valid in every state (remount, restart,
    create_share) over those valid only after others (a deny needs a share and a grant): a
    model-only run of the CephFS-native claims at 8 steps per example reached a first deny after
    a median of 197 steps over 30 seeds (max 604), far fewer with this strategy
    (benchmarks/explore_fairness.py). Hypothesis' swarm testing (a random subset of the rules
    per example) is not used: it stopped the shrinker.
    (`RuleStrategy` is Hypothesis' own, pinned in pyproject.)"""

    def __init__(self, machine: RuleBasedStateMachine) -> None:
        super().__init__(machine)
        place = {name: n for n, name in enumerate(ORDER)}
        self.rules = sorted(self.rules, key=lambda r: place.get(r.function.__name__, len(ORDER)))

    def do_draw(self, data: Any) -> tuple[Any, dict[str, Any]]:
        # An index into the fixed list of rules, drawn again while its rule cannot run: a rule
        # keeps its index whatever else can run, so Hypothesis' shrinker can delete the steps
        # before it; and every runnable rule is equally likely. (Moving a blocked draw on to the
        # next runnable rule instead gave each rule the draws of the blocked rules before it in
        # the list: `restart` took those of `remount` (blocked after itself) and `revert`
        # (unclaimed), a third of the steps on the Ceph lab.) After REDRAWS blocked draws the
        # last one moves on to the next runnable rule, so a draw always ends.
        # No swarm-testing flags: Hypothesis draws them lazily, at whichever step first asks, and
        # deleting a step then shifts them onto other steps' choices, which stops the shrinker
        # (seen: 8 steps left where 2 reproduce, whether the flags were asked lazily or all at once).
        valid = [n for n, r in enumerate(self.rules) if self.is_valid(r)]
        if not valid:
            return super().do_draw(data)  # Hypothesis' own error: no rule can run
        for _ in range(REDRAWS):
            start = data.draw(st.integers(0, len(self.rules) - 1))
            if start in valid:
                break
        chosen = self.rules[min(valid, key=lambda n: (n - start) % len(self.rules))]
        return chosen, {k: data.draw(s) for k, s in chosen.arguments_strategies.items()}


class BudgetSpent(KeyboardInterrupt):
    """The exploration's time is up: raised where the next example or step would start (also
    while shrinking: the budget bounds the whole run).

    An interrupt, because that is the one exception Hypothesis passes through at once without
    recording the example (any other would be a failure, or a 'flaky' disagreement with the
    examples before it); explore() catches it before anything else can see it."""


def build_machine(claims: Claims, new_executor: Callable[[], Executor], stats: Stats,
                  deadline: float) -> type[RuleBasedStateMachine]:
    """A state machine class bound to one run's driver (through `new_executor`)."""

    class Explorer(RuleBasedStateMachine):
        def __init__(self) -> None:
            if stats.out_of_time(deadline):
                raise BudgetSpent()
            super().__init__()
            self._rules_strategy = FairRules(self)
            self.ex = new_executor()
            stats.examples += 1
            stats.last = self.ex

        # -- helpers (model reads only) ----------------------------------------------------
        @property
        def model(self):
            return self.ex.model

        def _shares(self) -> list[str]:
            return sorted(self.model.shares)

        def _do(self, rule_name: str, **args: Any) -> None:
            if stats.out_of_time(deadline):  # a long example stops too, not only the next one
                raise BudgetSpent()
            stats.steps += 1
            stats.rules[rule_name] = stats.rules.get(rule_name, 0) + 1
            try:
                self.ex.apply(Step(rule_name, args))
            except Exception as exc:
                stats.failed(self.ex, exc)
                raise
            stats.states.add(self.model.fingerprint())

        def _with_rw(self) -> list[str]:
            """Shares a client can write: a pool identity holds a rw rule (crowd identities
            have no client; their rules are judged by the driver's answers)."""
            return [s for s in self._shares()
                    if any(self.model.shares[s].rules.get(i) == "rw" for i in IDENTITIES)]

        # -- shares ----------------------------------------------------------------------
        @precondition(lambda self: claims.has("share") and len(self.model.shares) < MAX_SHARES)
        @rule(size=st.integers(1, claims.max_size))
        def create_share(self, size: int) -> None:
            self._do("create_share", share=self.model.new_name("s"), size=size)

        @precondition(lambda self: claims.has("share")
                      and any(not s.snapshots for s in self.model.shares.values()))
        @rule(data=st.data())
        def delete_share(self, data: st.DataObject) -> None:
            names = [n for n, s in sorted(self.model.shares.items()) if not s.snapshots]
            self._do("delete_share", share=data.draw(st.sampled_from(names), label="share"))

        @precondition(lambda self: claims.has("extend") and bool(self.model.shares))
        @rule(data=st.data(), by=st.integers(1, 3))
        def extend(self, data: st.DataObject, by: int) -> None:
            share = data.draw(st.sampled_from(self._shares()), label="share")
            self._do("extend", share=share, size=self.model.shares[share].size + by)

        @precondition(lambda self: claims.has("shrink")
                      and any(s.size > 1 for s in self.model.shares.values()))
        @rule(data=st.data())
        def shrink(self, data: st.DataObject) -> None:
            share = data.draw(st.sampled_from([n for n in self._shares()
                                               if self.model.shares[n].size > 1]), label="share")
            size = data.draw(st.integers(1, self.model.shares[share].size - 1), label="size")
            self._do("shrink", share=share, size=size)

        # -- snapshots -------------------------------------------------------------------
        @precondition(lambda self: claims.has("snapshot") and any(
            len(s.snapshots) < MAX_SNAPSHOTS for s in self.model.shares.values()))
        @rule(data=st.data())
        def snapshot(self, data: st.DataObject) -> None:
            share = data.draw(st.sampled_from([n for n in self._shares()
                                               if len(self.model.shares[n].snapshots) < MAX_SNAPSHOTS]),
                              label="share")
            self._do("snapshot", snapshot=self.model.new_name("snap"), share=share)

        @precondition(lambda self: claims.has("snapshot") and bool(self.model.snapshots))
        @rule(data=st.data())
        def delete_snapshot(self, data: st.DataObject) -> None:
            snap = data.draw(st.sampled_from(sorted(self.model.snapshots)), label="snapshot")
            self._do("delete_snapshot", snapshot=snap)

        @precondition(lambda self: claims.has("create_from_snapshot") and bool(self.model.snapshots)
                      and len(self.model.shares) < MAX_SHARES)
        @rule(data=st.data(), bigger=st.integers(0, 2))
        def share_from_snapshot(self, data: st.DataObject, bigger: int) -> None:
            snap = data.draw(st.sampled_from(sorted(self.model.snapshots)), label="snapshot")
            self._do("share_from_snapshot", share=self.model.new_name("s"), snapshot=snap,
                     size=self.model.snapshots[snap].size + bigger)

        @precondition(lambda self: claims.has("revert_to_snapshot") and bool(self.model.snapshots))
        @rule(data=st.data())
        def revert(self, data: st.DataObject) -> None:
            share = data.draw(st.sampled_from([n for n in self._shares()
                                               if self.model.shares[n].snapshots]), label="share")
            self._do("revert", snapshot=self.model.latest_snapshot(share))

        # -- access rules ----------------------------------------------------------------
        def _free(self, share: str) -> list[str]:
            return [i for i in IDENTITIES if i not in self.model.shares[share].rules]

        def _draw_grants(self, data: st.DataObject, share: str, min_size: int) -> list[list[str]]:
            who = data.draw(st.lists(st.sampled_from(self._free(share)), min_size=min_size,
                                     unique=True), label="identities")
            return [[i, data.draw(st.sampled_from(claims.levels), label=f"level of {i}")] for i in who]

        @precondition(lambda self: claims.has("share") and any(self._free(n) for n in self.model.shares))
        @rule(data=st.data(), mode=st.sampled_from(["delta", "sync"]))
        def grant(self, data: st.DataObject, mode: str) -> None:
            share = data.draw(st.sampled_from([n for n in self._shares() if self._free(n)]), label="share")
            self._do("grant", share=share, rules=self._draw_grants(data, share, 1), mode=mode)

        @precondition(lambda self: claims.has("share")
                      and any(s.rules for s in self.model.shares.values()))
        @rule(data=st.data(), mode=st.sampled_from(["delta", "sync"]))
        def deny(self, data: st.DataObject, mode: str) -> None:
            share = data.draw(st.sampled_from([n for n in self._shares() if self.model.shares[n].rules]),
                              label="share")
            who = data.draw(st.lists(st.sampled_from(sorted(self.model.shares[share].rules)),
                                     min_size=1, unique=True), label="identities")
            self._do("deny", share=share, identities=who, mode=mode)

        @precondition(lambda self: claims.has("share") and any(
            s.rules and self._free(n) for n, s in self.model.shares.items()))
        @rule(data=st.data())
        def change_access(self, data: st.DataObject) -> None:
            share = data.draw(st.sampled_from([n for n in self._shares() if self.model.shares[n].rules
                                               and self._free(n)]), label="share")
            deny = data.draw(st.lists(st.sampled_from(sorted(self.model.shares[share].rules)),
                                      min_size=1, unique=True), label="deny")
            self._do("change_access", share=share, add=self._draw_grants(data, share, 1), deny=deny)

        def _roomy(self) -> list[str]:
            return [n for n in self._shares() if len(self.model.shares[n].rules) < claims.max_rules]

        @precondition(lambda self: claims.has("share") and bool(self._roomy()))
        @rule(data=st.data(), mode=st.sampled_from(["delta", "sync"]))
        def grant_crowd(self, data: st.DataObject, mode: str) -> None:
            """Many rules at once, of clients outside the observed pool (a share mounted by
            every node of a cluster): the count is drawn across everything Manila allows, small
            counts and large ones alike; the pool's access must not change."""
            share = data.draw(st.sampled_from(self._roomy()), label="share")
            room = claims.max_rules - len(self.model.shares[share].rules)
            count = data.draw(st.integers(1, room) if room <= 16 else
                              st.one_of(st.integers(1, 16), st.integers(17, room)), label="count")
            self._do("grant_crowd", share=share, first=crowd_start(self.model.shares[share].rules),
                     count=count, level=data.draw(st.sampled_from(claims.levels), label="level"),
                     mode=mode)

        @precondition(lambda self: claims.resend and claims.has("share")
                      and any(s.rules for s in self.model.shares.values()))
        @rule(data=st.data())
        def reapply(self, data: st.DataObject) -> None:
            """The manager sends rules the back end already applied again as additions: on
            ensure_shares when the driver asks (reapply_access_rules, every active rule), and for
            rules an interrupted update left `applying` (manila/share/manager.py, ensure path;
            manila/share/access.py reset_rules_to_queueing_states). Nothing changes for users."""
            share = data.draw(st.sampled_from([n for n in self._shares() if self.model.shares[n].rules]),
                              label="share")
            who = data.draw(st.lists(st.sampled_from(sorted(self.model.shares[share].rules)),
                                     min_size=1, unique=True), label="identities")
            self._do("reapply", share=share, identities=who)

        # -- time ------------------------------------------------------------------------
        @precondition(lambda self: claims.has("ensure_shares") and bool(self.model.shares)
                      and self.ex.steps[-1].rule != "restart")
        @rule()
        def restart(self) -> None:
            """(Not twice in a row: a second restart with nothing done in between explores
            nothing new, and restarts are the dearest step.)"""
            self._do("restart")

        # -- data ------------------------------------------------------------------------
        @precondition(lambda self: claims.data_path and bool(self._with_rw()))
        @rule(data=st.data(), path=st.sampled_from(FILES), version=st.integers(0, 99))
        def write(self, data: st.DataObject, path: str, version: int) -> None:
            share = data.draw(st.sampled_from(self._with_rw()), label="share")
            self._do("write", share=share, path=path, content=f"{path}-v{version}")

        def _fillable(self) -> list[str]:
            return [s for s in self._with_rw() if self.model.shares[s].size >= 2
                    and self.model.shares[s].used_mib == 0]

        @precondition(lambda self: claims.data_path and bool(self._fillable()))
        @rule(data=st.data(), mib=st.sampled_from([64, 1088]))
        def fill(self, data: st.DataObject, mib: int) -> None:
            share = data.draw(st.sampled_from(self._fillable()), label="share")
            self._do("fill", share=share, mib=mib)

        @precondition(lambda self: claims.data_path and bool(self.model.shares)
                      and self.ex.steps[-1].rule != "remount")
        @rule()
        def remount(self) -> None:
            """(Not twice in a row: a second remount observes nothing the first did not. On a
            slow back end, Hypothesis's swarm testing often leaves only a few rules enabled in an
            example, and the always-enabled remount took 151 of 250 steps on the Ceph lab.)"""
            self._do("remount")

        @invariant()
        def observers_see_the_model(self) -> None:
            if getattr(self, "ex", None) is not None:
                try:
                    self.ex.observe()
                except Exception as exc:
                    stats.failed(self.ex, exc)
                    raise

        def teardown(self) -> None:
            if getattr(self, "ex", None) is not None:
                self.ex.cleanup()

    return Explorer
