"""The live adapter: the exploration's steps through Manila's API (tempest.lib), the real
scheduler and share manager, compared with the same reference model as the in-process adapter.

The state machine (`certkit.explore.machine`) draws the same rules for both tiers; only how a
step reaches the back end differs. Here each step is one or more API calls, then a bounded wait
until Manila settles (a share `available` at the new size, every rule `active` or `error`, a
deleted object gone), and the observation after every step reads what the API says of every
share, snapshot and rule the model knows. The manager's own call modes are what a user of the
API can provoke:

- a grant or deny in `delta` mode: one rule per request, each awaited before the next (the
  manager calls `update_access` once per change);
- in `sync` mode: every request at once, awaited together (the manager batches the queued rules
  into one `update_access` with several adds or deletes, its access state machine moving them
  through queued_to_apply/applying and queued_to_deny/denying);
- `change_access`: the adds and the denies at once;
- `restart`: manila-share restarted (the manager's `ensure_shares`, re-applying rules where the
  driver asks), only on a target whose services certkit runs.

Every share and snapshot is recorded by name before its request is sent
(`certkit.explore.livecleanup`): an example's objects are deleted at its end, and whatever is
left (a failure, Ctrl-C, SIGTERM, a request interrupted after Manila created its object) by the
exploration's final clean-up, which waits for each deletion within its bound and reports exactly
what it could not delete.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from certkit.apitier.client import ManilaClient, WaitTimeout, schema
from certkit.apitier.target import ApiTarget
from certkit.contract.checks import expect
from certkit.explore.executor import CROWD, IDENTITIES, crowd, crowd_address
from certkit.explore.livecleanup import Left, Recorded, sweep
from certkit.explore.machine import Claims
from certkit.explore.model import Refused, ShareModel
from certkit.explore.steps import Step
from certkit.profile import Profile
from certkit.text import error_text

SETTLED_RULE = ("active", "error")
BUSY_SHARE = ("creating", "ensuring", "extending", "shrinking", "reverting", "deleting", "manage_starting",
              "migrating", "restoring", "backup_creating")
IDENTITY_OF_TYPE = {
    "ip": lambda n: f"203.0.113.{10 + n}",  # TEST-NET-3 (RFC 5737): never a real client
    "user": lambda n: f"certkitexplore{n}",
    "cephx": lambda n: f"certkit-explore-{n}",
    "cert": lambda n: f"certkit-explore-{n}.example.com",
}
"""The back-end identity of `id<n>`: one per identity, shared by every share (so one identity
meets several shares, as in the in-process tier)."""
LIVE_MAX_RULES = 20
"""Rules per share on the live tier: each is one API request and a walk through the manager's
access state machine; the in-process tier draws the whole range. Measured on the lab (load 9-13):
a 101-rule grant sent 81 requests in 14 minutes, each slower as the rules grew (docs/explore/live.md)."""
NOT_OBSERVABLE_LIVE = ("live tier: what Manila's API reports (statuses, sizes, export locations, "
                       "rules and their states) was compared with the model; no client mounted")


class LiveClient(ManilaClient):
    """The calls the exploration makes beyond the live checks' client: clones, shrink, revert,
    deletes that wait until the object is gone. Shares and snapshots are named, each name
    recorded (`recorded`) before its request is sent."""

    recorded: Recorded | None = None

    def _intend(self, kind: str, name: str) -> None:
        if self.recorded is not None:
            self.recorded.intend(kind, name)

    def create_share(self, proto: str, size: int, share_type: str | None = None,
                     name: str | None = None, share_network: str | None = None) -> dict[str, Any]:
        if name:
            self._intend("share", name)
        return super().create_share(proto, size, share_type, name, share_network)

    def create_named_snapshot(self, share_id: str, name: str) -> dict[str, Any]:
        self._intend("snapshot", name)
        return self._create("snapshot", {"share_id": share_id, "name": name})

    def create_share_from_snapshot(self, proto: str, snapshot_id: str, size: int,
                                   name: str) -> dict[str, Any]:
        self._intend("share", name)
        body: dict[str, Any] = {"share_proto": proto, "size": size, "snapshot_id": snapshot_id,
                                "name": name}
        if self.share_network_id:
            body["share_network_id"] = self.share_network_id
        return self._create("share", body)

    def _action(self, share_id: str, body: dict[str, Any]) -> None:
        import json

        resp, raw = self.post(f"shares/{share_id}/action", json.dumps(body))
        self.validate_response(schema("action"), resp, raw)

    def shrink(self, share_id: str, new_size: int) -> None:
        self._action(share_id, {"shrink": {"new_size": new_size}})

    def revert(self, share_id: str, snapshot_id: str) -> None:
        self._action(share_id, {"revert": {"snapshot_id": snapshot_id}})

    def delete_snapshot(self, snap_id: str) -> None:
        resp, raw = self.delete(f"snapshots/{snap_id}")
        self.validate_response(schema("no_body"), resp, raw)

    def force_delete(self, kind: str, obj_id: str) -> None:
        """The admin's force-delete of a share or snapshot stuck in a transitional status
        (refusals are left to the sweep, which lists what stays)."""
        import json

        try:
            self.post(f"{'shares' if kind == 'share' else 'snapshots'}/{obj_id}/action",
                      json.dumps({"force_delete": None}))
        except Exception:  # noqa: BLE001 - gone already, or refused: the sweep says what is left
            pass

    def gone(self, kind: str, obj_id: str, name: str) -> None:
        """Wait until the share or snapshot is deleted (fails early on an error status), then
        stop tracking it."""
        from tempest.lib import exceptions as lib_exc

        show = self.show_share if kind == "share" else self.show_snapshot

        def read() -> dict[str, Any] | None:
            try:
                return show(obj_id)
            except lib_exc.NotFound:
                return None
            except lib_exc.BadRequest:  # Manila 23 answers 400 to a GET racing the deletion
                return {"status": "deleting"}

        self.wait_for(f"{kind} {obj_id} -> deleted", read, lambda v: v is None,
                      lambda v: v is not None and v["status"].startswith("error"))
        with self._lock:
            self.created = [c for c in self.created if c != (kind, obj_id)]
        if self.recorded is not None:
            self.recorded.forget(name)

    def settled_rules(self, share_id: str, expected: set[str]) -> list[dict[str, Any]]:
        """The share's rules once exactly the `expected` rule ids are listed and each is
        `active` or `error` (the manager's access state machine at rest)."""
        return self.wait_for(
            f"access rules of share {share_id} -> {len(expected)} rule(s), each active or error",
            lambda: self.access_rules(share_id),
            lambda rules: {r["id"] for r in rules} == expected
            and all(r["state"] in SETTLED_RULE for r in rules))


class LiveExecutor:
    """One example's shares, snapshots and rules in Manila, and the model they must match (the
    live twin of `certkit.explore.executor.Executor`: same steps, same model)."""

    def __init__(self, api: LiveClient, target: ApiTarget, proto: str, access_type: str,
                 tag: str, session: "LiveSession | None" = None) -> None:
        self.api = api
        self.session = session
        """The exploration's connection (its recorded names, its clean-up bound)."""
        self.target = target
        self.proto = proto
        self.access_type = access_type
        self.tag = tag
        self.model = ShareModel()
        self.shares: dict[str, str] = {}
        """model name -> share id."""
        self.snapshots: dict[str, str] = {}
        self.rules: dict[str, dict[str, str]] = {}
        """share name -> identity -> access rule id."""
        self.steps: list[Step] = []
        self.restarts = 0

    def access_to(self, identity: str) -> str:
        if identity.startswith(CROWD):
            return crowd_address(self.access_type, int(identity[len(CROWD):]), "explore")
        n = IDENTITIES.index(identity) + 1
        return IDENTITY_OF_TYPE.get(self.access_type, lambda i: f"certkitexplore{i}")(n)

    # -- applying a step --------------------------------------------------------------------
    def apply(self, step: Step) -> None:
        """Apply `step` through the API and to the model; a status the model does not expect
        (or a wait that never ends) raises an AssertionError naming what was seen."""
        self.steps.append(step)
        getattr(self, f"_do_{step.rule}")(**step.args)

    def _name(self, share: str) -> str:
        return f"certkit-explore-{self.tag}-{share}"

    def _do_create_share(self, share: str, size: int) -> None:
        created = self.api.create_share(self.proto, size, name=self._name(share))
        self.shares[share], self.rules[share] = created["id"], {}
        self.api.wait_share(created["id"])
        self.model.create_share(share, size)

    def _do_snapshot(self, snapshot: str, share: str) -> None:
        created = self.api.create_named_snapshot(self.shares[share], self._name(snapshot))
        self.snapshots[snapshot] = created["id"]
        self.api.wait_snapshot(created["id"])
        self.model.snapshot(snapshot, share)

    def _do_share_from_snapshot(self, share: str, snapshot: str, size: int) -> None:
        self.model.share_from_snapshot(share, snapshot, size)
        created = self.api.create_share_from_snapshot(self.proto, self.snapshots[snapshot], size,
                                                      self._name(share))
        self.shares[share], self.rules[share] = created["id"], {}
        self.api.wait_share(created["id"])

    def _do_delete_share(self, share: str) -> None:
        share_id = self.shares.pop(share)
        self.rules.pop(share)
        self.api.delete_share(share_id)  # the manager denies its rules first
        self.api.gone("share", share_id, self._name(share))
        self.model.delete_share(share)

    def _do_delete_snapshot(self, snapshot: str) -> None:
        snap_id = self.snapshots.pop(snapshot)
        self.api.delete_snapshot(snap_id)
        self.api.gone("snapshot", snap_id, self._name(snapshot))
        self.model.delete_snapshot(snapshot)

    def _resized(self, share: str, size: int, what: str) -> None:
        share_id = self.shares[share]
        self.api.wait_for(f"share {share} ({share_id}) {what} -> available at {size} GiB",
                          lambda: self.api.show_share(share_id),
                          lambda s: s["status"] == "available" and s["size"] == size,
                          lambda s: "error" in s["status"]
                          or (s["status"] == "available" and s["size"] != size))

    def _do_extend(self, share: str, size: int) -> None:
        self.api.extend(self.shares[share], size)
        self._resized(share, size, "extend")
        self.model.resize(share, size)

    def _do_shrink(self, share: str, size: int) -> None:
        before = self.model.shares[share].size
        try:
            self.model.resize(share, size)
        except Refused as why:
            # The manager keeps the share available at its size when the driver refuses with
            # ShareShrinkingPossibleDataLoss (manila/share/manager.py, shrink_share).
            self.api.shrink(self.shares[share], size)
            self._resized(share, before, f"shrink to {size} GiB refused ({why})")
            return
        self.api.shrink(self.shares[share], size)
        self._resized(share, size, "shrink")

    def _do_revert(self, snapshot: str) -> None:
        share = self.model.snapshots[snapshot].share
        self.api.revert(self.shares[share], self.snapshots[snapshot])
        self.model.revert(snapshot)
        self._resized(share, self.model.shares[share].size, f"revert to {snapshot}")

    # -- access -----------------------------------------------------------------------------
    def _allow(self, share: str, identity: str, level: str) -> None:
        rule = self.api.grant(self.shares[share], self.access_type, self.access_to(identity), level)
        self.rules[share][identity] = rule["id"]
        self.model.set_rules(share, {**self.model.shares[share].rules, identity: level})

    def _deny(self, share: str, identity: str) -> None:
        self.api.deny(self.shares[share], self.rules[share].pop(identity))
        self.model.set_rules(share, {i: lvl for i, lvl in self.model.shares[share].rules.items()
                                     if i != identity})

    def _settle(self, share: str) -> None:
        self.api.settled_rules(self.shares[share], set(self.rules[share].values()))

    def _do_grant(self, share: str, rules: list[list[str]], mode: str) -> None:
        for identity, level in rules:
            self._allow(share, identity, level)
            if mode == "delta":
                self._settle(share)
        self._settle(share)

    def _do_grant_crowd(self, share: str, first: int, count: int, level: str, mode: str) -> None:
        self._do_grant(share, [[i, level] for i in crowd(first, count)], mode)

    def _do_deny(self, share: str, identities: list[str], mode: str) -> None:
        for identity in identities:
            self._deny(share, identity)
            if mode == "delta":
                self._settle(share)
        self._settle(share)

    def _do_change_access(self, share: str, add: list[list[str]], deny: list[str]) -> None:
        for identity in deny:
            self._deny(share, identity)
        for identity, level in add:
            self._allow(share, identity, level)
        self._settle(share)

    # -- time -------------------------------------------------------------------------------
    def _do_restart(self) -> None:
        """manila-share restarted: the manager re-ensures every share (ensure_shares) and
        re-applies rules where the driver asks; wait until it reports again and every share
        has left the transitional statuses."""
        since = max((s["updated_at"] or "" for s in self.api.services()), default="")
        if self.session is not None:  # interrupted half-way, the final clean-up restarts it
            self.session.restart_pending = True
        self.target.restart(["manila-share"])
        if self.session is not None:
            self.session.restart_pending = False
        self.restarts += 1
        self.api.wait_for("manila-share reports up after the restart", self.api.services,
                          lambda svcs: any(s["binary"] == "manila-share" and s["state"] == "up"
                                           and (s["updated_at"] or "") > since for s in svcs))
        for share, share_id in self.shares.items():
            self.api.wait_for(f"share {share} ({share_id}) settles after the restart",
                              lambda sid=share_id: self.api.show_share(sid),
                              lambda s: s["status"] not in BUSY_SHARE)
            self.api.settled_rules(share_id, set(self.rules[share].values()))

    def _do_write(self, share: str, path: str, content: str) -> None:
        raise NotImplementedError("the live tier observes no data path (no write rule is drawn)")

    _do_fill = _do_remount = _do_write

    # -- observing --------------------------------------------------------------------------
    def observe(self) -> None:
        """Every share, snapshot and rule the model knows, as the API reports it."""
        paths: dict[str, str] = {}
        for name, share_id in sorted(self.shares.items()):
            want = self.model.shares[name]
            got = self.api.show_share(share_id)
            expect(got["status"] == "available",
                   f"share {name} is {got['status']!r}, not 'available' (the model expects it usable)")
            expect(got["size"] == want.size,
                   f"share {name} is {got['size']} GiB through the API; the model says {want.size} GiB")
            locations = [el["path"] for el in self.api.export_locations(share_id)]
            expect(bool(locations), f"share {name} is available but the API lists no export location")
            for path in locations:
                other = paths.setdefault(path, name)
                expect(other == name, f"shares {other} and {name} have the same export location "
                                      f"{path!r}: a client of one would mount the other")
            rules = {r["access_to"]: r for r in self.api.access_rules(share_id)}
            expected = {self.access_to(i): level for i, level in want.rules.items()}
            seen = {to: r["access_level"] for to, r in rules.items()}
            expect(seen == expected, f"share {name} has rules {seen}; the model says {expected}")
            bad = {to: r["state"] for to, r in rules.items() if r["state"] != "active"}
            expect(not bad, f"share {name}: rule(s) not active through the share manager: {bad}")
        for name, snap_id in sorted(self.snapshots.items()):
            got = self.api.show_snapshot(snap_id)
            want_size = self.model.snapshots[name].size
            expect(got["status"] == "available", f"snapshot {name} is {got['status']!r}, not 'available'")
            expect(got["size"] == want_size,
                   f"snapshot {name} is {got['size']} GiB; the model says {want_size} GiB")

    def cleanup(self) -> None:
        """Delete what this example made through the API, waiting for each deletion (what is
        left stays recorded: the exploration's final clean-up tries again and reports it)."""
        if self.session is not None:
            self.session.sweep(final=False)
        else:
            self.api.cleanup()
        self.shares.clear()
        self.snapshots.clear()


def live_claims(profile: Profile, target: ApiTarget, options: Any) -> Claims:
    """The rules' gates on the live tier: the profile's claims, no data path (nothing mounts),
    restarts only where certkit runs the services, at most LIVE_MAX_RULES rules a share, and
    no `reapply` step (a user cannot make the manager re-send rules; its restarts do)."""
    from certkit.explore.binding import claims_of

    claims = claims_of(profile, False, options.max_size, min(options.max_rules, LIVE_MAX_RULES))
    features = claims.features if target.can_restart else claims.features - {"ensure_shares"}
    return replace(claims, features=features, resend=False)


def is_live_divergence(exc: BaseException) -> bool:
    """A status or observation the model does not expect, or the API refusing (4xx) or failing
    (5xx) a step the model says it accepts; not a connection the harness lost."""
    from tempest.lib import exceptions as lib_exc

    return isinstance(exc, (AssertionError, WaitTimeout, lib_exc.ClientRestClientException,
                            lib_exc.ServerRestClientException))


class LiveSession:
    """The exploration's connection to one Manila: a tracked client (and, on a DHSS=True back
    end, the share network every share goes on), executors for each example, and the final
    clean-up of whatever an interrupted or failed example left."""

    def __init__(self, profile: Profile, target: ApiTarget, run_id: str) -> None:
        from certkit.explore.binding import explored_access

        access = explored_access(profile)
        if access is None:
            raise ValueError("the profile claims no protocol with an access type")
        self.proto, self.access_type = access
        self.target = target
        self.tag = run_id[:8]
        self.api = LiveClient(target, build_timeout=profile.timeouts["status_poll"],
                              build_interval=0.25)
        self.api.recorded = Recorded(prefix=f"certkit-explore-{self.tag}-")
        self.bound = 2 * profile.timeouts["status_poll"]
        """How long a clean-up waits for objects to settle and go (each of them gets the
        profile's status_poll to leave a transitional status and as long again to go)."""
        self.network: str | None = None
        self.examples = 0
        self.restart_pending = False
        """A manila-share restart was interrupted half-way: the final clean-up restarts it."""
        self.leftovers: list[Left] = []
        """What the final clean-up could not delete (the report's leaks)."""

    def __enter__(self) -> "LiveSession":
        if self.target.dhss:
            self.network = self.api.create_share_network(f"certkit-explore-{self.tag}")["id"]
            with self.api._lock:  # kept across examples: deleted by __exit__ only
                self.api.created.remove(("share_network", self.network))
            self.api.share_network_id = self.network
        return self

    def new_executor(self) -> LiveExecutor:
        """An executor for the next example (the previous one's objects are already deleted)."""
        self.examples += 1
        return LiveExecutor(self.api, self.target, self.proto, self.access_type,
                            f"{self.tag}-{self.examples}", self)

    def sweep(self, final: bool) -> list[Left]:
        """Delete every recorded share and snapshot Manila still lists (waiting, within the
        bound); the final sweep also retries what earlier ones left. A restart interrupted
        half-way (Ctrl-C, SIGTERM during a `restart` step) is finished first, by the example's
        sweep as by the final one: with manila-share stopped no delete runs, and the example's
        sweep would wait its whole bound (2 x status_poll) for deletions that cannot happen."""
        if self.restart_pending and self.target.can_restart:
            self.target.restart(["manila-share"])
            self.restart_pending = False
        with self.api._lock:  # the sweep finds them by name
            self.api.created = [c for c in self.api.created if c[0] not in ("share", "snapshot")]
        if not final:
            return sweep(self.api, self.api.recorded, self.bound, final=False)
        left = sweep(self.api, self.api.recorded, self.bound / 2)
        if not left:
            return left
        # Still creating, deleting...: manila-share died or hangs (its RPCs wait in the queue).
        # Where certkit runs it, start it again; then force-delete (admin) what is stuck in a
        # transitional status, which Manila refuses to delete otherwise.
        if self.target.can_restart:
            self.target.restart(["manila-share"])
        for obj in left:
            if obj.id != "?":
                self.api.force_delete(obj.kind, obj.id)
        return sweep(self.api, self.api.recorded, self.bound / 2)

    def report_leaks(self, run: Any) -> None:
        """What the final clean-up could not delete becomes the run's leaks (the verdict and
        the report's `leaks` see each, secrets redacted)."""
        from certkit.harness.ledger import Leak

        run.ledger.leaks.extend(Leak(left.kind, left.id, left.name, run.profile.redact(left.error))
                                for left in self.leftovers)

    def __exit__(self, *exc: Any) -> None:
        try:
            self.leftovers.extend(self.sweep(final=True))
        except BaseException as error:  # the API or the restart failed, or a second signal
            why = ("the clean-up was interrupted" if isinstance(error, KeyboardInterrupt)
                   else error_text(error, 300))
            self.leftovers.extend(Left(kind, "?", name, f"not known to be deleted: {why}")
                                  for name, kind in self.api.recorded.snapshot().items())
            if not isinstance(error, Exception):
                raise
        if self.network is not None:
            try:
                self.api.delete_share_network(self.network)
            except Exception as error:  # noqa: BLE001 - reported with the others
                self.leftovers.append(Left("share_network", self.network,
                                           f"certkit-explore-{self.tag}", error_text(error)))

