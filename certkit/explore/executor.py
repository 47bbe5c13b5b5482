"""Steps applied to a driver through `Resources`, and to the reference model beside it.

The executor is what both the Hypothesis state machine and `certkit replay` drive: one `apply`
per step, then `observe`, which compares what the driver returns (and, with a client host, what
clients see) with the model. Names in steps (`s1`, `snap2`, `id1`) map to the driver's objects
here, so a step list replays the same way on any run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from certkit.contract.checks import expect, expect_manila_exception
from certkit.contract.resources import Resources
from certkit.contract.restart import Restart
from certkit.explore.model import Refused, ShareModel
from certkit.explore.steps import Step
from certkit.harness.models import Model

IDENTITIES = ("id1", "id2", "id3")
"""A small pool, so one identity meets several shares."""
CROWD = "c"
"""Crowd identities (`c1`, `c2`...): clients outside the pool, granted many at a time; their
rules are judged by the driver's answers, never by a mount."""


def crowd(first: int, count: int) -> list[str]:
    """The crowd identities `c<first>`..`c<first + count - 1>`."""
    return [f"{CROWD}{k}" for k in range(first, first + count)]


def crowd_start(rules: dict[str, str]) -> int:
    """The first crowd number no rule of a share uses yet."""
    return 1 + max((int(i[len(CROWD):]) for i in rules if i.startswith(CROWD)), default=0)


def crowd_address(access_type: str, k: int, run: str) -> str:
    """The back-end identity of crowd client `k`: never one of the pool's (ip: the shared
    address space 100.64.0.0/10, which no test client uses)."""
    return {"ip": f"100.64.{k // 250}.{k % 250 + 1}", "user": f"certkit{run}c{k}",
            "cert": f"certkit-{run}-c{k}.example.com", "cephx": f"certkit-{run}-c{k}"}[access_type]


@dataclass
class Backend:
    """What the executor drives: the run's resources, how to build a restarted instance, and the
    protocol and access type under exploration."""

    resources: Resources
    new_driver: Callable[..., Any]
    dut: Any
    proto: str
    access_type: str


class Executor:
    """One example's shares, snapshots and rules on the driver, and the model they must match.

    `example` numbers the example within the run: back-end identities that outlive a share
    (cephx ids are cluster-wide objects) carry it, so nothing an earlier example left behind
    (a broken deny's identity, its caps and key) is met by a later one, and a failing example
    reproduces alone, as Hypothesis' shrinker and `certkit replay` need."""

    def __init__(self, backend: Backend, observer: Any, example: int = 1) -> None:
        self.backend = backend
        self.example = example
        self.res = backend.resources
        self.observer = observer
        self.model = ShareModel()
        self.shares: dict[str, Model] = {}
        self.snapshots: dict[str, Model] = {}
        self.rules: dict[str, dict[str, Model]] = {}
        """share name -> identity -> the rule as the driver was given it."""
        self.keys: dict[str, str] = {}
        """identity -> the latest access key update_access returned for it."""
        self.identity_of: dict[str, str] = {}
        """back-end identity (access_to) -> pool or crowd identity."""
        self.steps: list[Step] = []
        self.restarts = 0

    # -- identities -------------------------------------------------------------------------
    def access_to(self, identity: str) -> str:
        """The back-end identity of `id<n>` or crowd client `c<k>`: cephx ids carry the run id
        and the example number (`certkit-<run>-e<example>-200`); addresses stay the client
        host's."""
        kind, run = self.backend.access_type, self.res.models.run_id
        if kind == "cephx":
            run = f"{run}-e{self.example}"
        if identity.startswith(CROWD):
            return crowd_address(kind, int(identity[len(CROWD):]), run)
        n = 200 + IDENTITIES.index(identity)
        return f"certkit-{run}-{n}" if kind == "cephx" else self.res.access_to(kind, n)

    def key(self, identity: str) -> str | None:
        return self.keys.get(identity)

    # -- applying a step --------------------------------------------------------------------
    def apply(self, step: Step) -> None:
        """Apply `step` to the driver and the model; a refusal the model did not expect (or an
        acceptance it did not) raises ContractViolation."""
        self.steps.append(step)
        handler = getattr(self, f"_do_{step.rule}")
        handler(**step.args)

    def observe(self) -> None:
        """Every observation, against the model (the state machine's invariant)."""
        self.observer.observe(self)

    def _do_create_share(self, share: str, size: int) -> None:
        self.shares[share] = self.res.create_share(self.backend.proto, size)
        self.rules[share] = {}
        self.model.create_share(share, size)

    def _do_snapshot(self, snapshot: str, share: str) -> None:
        self.snapshots[snapshot] = self.res.create_snapshot(self.shares[share])
        self.model.snapshot(snapshot, share)

    def _do_share_from_snapshot(self, share: str, snapshot: str, size: int) -> None:
        self.model.share_from_snapshot(share, snapshot, size)
        self.shares[share] = self.res.create_share_from_snapshot(self.snapshots[snapshot], size=size)
        self.rules[share] = {}

    def _do_delete_share(self, share: str) -> None:
        self.observer.forget(self, share)
        rules = list(self.rules.pop(share).values())
        if rules:  # the manager denies every rule before it deletes a share
            self.res.revoke_all(self.shares[share], rules)
        self.res.delete_share(self.shares.pop(share))
        self.model.delete_share(share)

    def _do_delete_snapshot(self, snapshot: str) -> None:
        self.res.delete_snapshot(self.snapshots.pop(snapshot))
        self.model.delete_snapshot(snapshot)

    def _do_extend(self, share: str, size: int) -> None:
        self.res.extend_share(self.shares[share], size)
        self.model.resize(share, size)

    def _do_shrink(self, share: str, size: int) -> None:
        from manila import exception

        target = self.shares[share]
        try:
            self.model.resize(share, size)
        except Refused as why:
            error = expect_manila_exception(
                lambda: self.res.shrink_share(target, size), f"shrink_share to {size} GiB ({why})")
            expect(isinstance(error, exception.ShareShrinkingPossibleDataLoss),
                   f"shrink below used data raised {type(error).__name__}, not "
                   "ShareShrinkingPossibleDataLoss (the share manager would put the share in error)")
            target["size"] = self.model.shares[share].size
            return
        self.res.shrink_share(target, size)

    def _do_revert(self, snapshot: str) -> None:
        snap = self.snapshots[snapshot]
        share_name = self.model.snapshots[snapshot].share
        self.res.revert_to_snapshot(self.shares[share_name], snap)
        self.model.revert(snapshot)
        self.shares[share_name]["size"] = self.model.shares[share_name].size

    def _new_rules(self, share: str, rules: list[list[str]]) -> list[Model]:
        target = self.shares[share]
        made = []
        for identity, level in rules:
            access_to = self.access_to(identity)
            rule = self.res.models.access_rule(target, self.backend.access_type, access_to, level)
            self.identity_of[access_to] = identity
            self.rules[share][identity] = rule
            made.append(rule)
        return made

    def _keys_from(self, result: Any, rules: list[Model]) -> None:
        for rule in rules:
            update = (result or {}).get(rule["access_id"]) or {}
            expect(update.get("state") != "error",
                   f"update_access reported the {rule['access_level']} rule for "
                   f"{rule['access_to']} in state 'error'")
            if update.get("access_key"):
                self.keys[self.identity_of[rule["access_to"]]] = update["access_key"]

    def _do_grant(self, share: str, rules: list[list[str]], mode: str) -> None:
        existing = list(self.rules[share].values())
        new = self._new_rules(share, rules)
        target = self.shares[share]
        if mode == "sync":
            result = self.res.sync_access(target, [*existing, *new])
            self._keys_from(result, [*existing, *new])
        else:
            result = self.res.grant_all(target, new, existing)
            self._keys_from(result, new)
        self.model.set_rules(share, {i: r["access_level"] for i, r in self.rules[share].items()})

    def _do_grant_crowd(self, share: str, first: int, count: int, level: str, mode: str) -> None:
        self._do_grant(share, [[i, level] for i in crowd(first, count)], mode)

    def _do_reapply(self, share: str, identities: list[str]) -> None:
        """Applied rules sent again as additions, beside the full list (the manager's ensure
        and recovery paths): the driver must accept them (idempotently) and nothing changes."""
        again = [self.rules[share][i] for i in identities]
        result = self.res.update_access(self.shares[share], list(self.rules[share].values()), add=again)
        self._keys_from(result, again)

    def _do_deny(self, share: str, identities: list[str], mode: str) -> None:
        self.observer.revoked(self, share, identities)
        gone = [self.rules[share].pop(i) for i in identities]
        remaining = list(self.rules[share].values())
        target = self.shares[share]
        if mode == "sync":
            self._keys_from(self.res.sync_access(target, remaining, dropped=gone), remaining)
        else:
            self.res.revoke_all(target, gone, remaining)
        self.model.set_rules(share, {i: r["access_level"] for i, r in self.rules[share].items()})

    def _do_change_access(self, share: str, add: list[list[str]], deny: list[str]) -> None:
        self.observer.revoked(self, share, deny)
        gone = [self.rules[share].pop(i) for i in deny]
        kept = list(self.rules[share].values())
        new = self._new_rules(share, add)
        result = self.res.change_access(self.shares[share], new, gone, kept)
        self._keys_from(result, new)
        self.model.set_rules(share, {i: r["access_level"] for i, r in self.rules[share].items()})

    def _do_restart(self) -> None:
        """A second driver instance over the same private storage, ensure_shares as the manager
        calls it after a restart, the rules re-applied where it asks; from now on every call
        goes through the new instance."""
        restart = Restart(self.res, self.backend.new_driver, self.backend.dut)
        second = restart.second_instance()
        before, after = restart.backend_info(self.res.driver), restart.backend_info(second)
        expect(before == after, f"get_backend_info differs between two instances of the same back "
                                f"end ({before!r} != {after!r}): the manager re-ensures every share "
                                "on every restart")
        shares = list(self.shares.values())
        updates = restart.ensure_existing(second, shares) if shares else None
        unknown = set(updates or {}) - {s["id"] for s in shares}
        expect(not unknown, f"ensure_shares returned updates for shares it was not given: {sorted(unknown)}")
        self.res = self.res.on_driver(second)
        self.restarts += 1
        for name, share in self.shares.items():
            update = (updates or {}).get(share["id"]) or {}
            expect(update.get("status") != "error",
                   f"ensure_shares reported share {name} in error after a restart")
            if update.get("export_locations"):
                Resources._available(share, update["export_locations"])
            rules = list(self.rules[name].values())
            if update.get("reapply_access_rules") and rules:
                self._keys_from(self.res.update_access(share, rules, add=rules), rules)

    def _do_write(self, share: str, path: str, content: str) -> None:
        self.observer.write(self, share, path, content)
        self.model.write(share, path, content)

    def _do_fill(self, share: str, mib: int) -> None:
        self.observer.fill(self, share, mib)
        self.model.fill(share, mib)

    def _do_remount(self) -> None:
        self.observer.remount(self)

    def cleanup(self) -> None:
        """Delete what this example made (mounts first), newest first, through the ledger.
        Each share's rules go first in one call, as the manager denies them before deleting a
        share (a crowd of rules would otherwise cost one update_access each); when that call
        fails, the ledger still deletes them one by one."""
        self.observer.close(self)
        for name, rules in self.rules.items():
            if rules and name in self.shares:
                try:
                    self.res.revoke_all(self.shares[name], list(rules.values()))
                except Exception:  # noqa: BLE001 - the ledger's clean-up below retries each
                    pass
        self.res.cleanup()
        self._identities_left()

    def _identities_left(self) -> None:
        """Every rule denied and every share deleted, an identity the driver was given a key
        for must be gone from the back end (Manila's CephFS driver removes a cephx identity with
        its last subvolume authorization): one the back end still accepts is a leak the driver
        left (a deny that did not deauthorize), reported with the run's leaks; certkit holds no
        right to remove it (the driver's own identity cannot)."""
        try:
            alive = self.observer.identities_left(self)
        except Exception:  # noqa: BLE001 - a check of the clean-up, not part of the example
            return
        for name in alive or []:
            self.res.ledger.record_leak("cephx identity", name, f"client.{name}",
                                        "the back end still accepts it after its rules were denied "
                                        "and its shares deleted (the driver did not remove it)")


def describe(exc: BaseException) -> str:
    """A divergence in one line, as the report and the replay file show it."""
    from certkit.harness.driver import raised_by

    if isinstance(exc, AssertionError):
        return str(exc) or "assertion failed"
    method = raised_by(exc)
    where = f"driver.{method} raised " if method else ""
    return f"{where}{type(exc).__name__}: {exc}"
