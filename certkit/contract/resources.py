"""The one door between a check and the driver (as csi-test's `Resources`): every create call
records the object in the ledger first, every delete takes it off, and every return value is
checked against its schema here, never in the check body.

Every object is deleted at the end of its check (newest first) and, failing that, at the end of
the run; a delete that reports "not found" counts as done. The families built on this class
(servers, replicas, groups, backups, migration, manage, restart) live in their own modules.
"""

from __future__ import annotations

from typing import Any, Callable

from certkit.contract.checks import ContractViolation, expect, expect_schema
from certkit.harness.ledger import Entry, ResourceLedger
from certkit.harness.models import Model, ModelFactory
from certkit.manila_abc import accepts
from certkit.waiting import poll_until

__all__ = ["Resources", "accepts", "not_found_types", "tolerating_not_found"]


def not_found_types() -> tuple[type, ...]:
    from manila import exception

    return (exception.ShareResourceNotFound, exception.SnapshotResourceNotFound)


def tolerating_not_found(call: Callable[[], Any]) -> Callable[[], Any]:
    """`call`, where a manila 'not found' error counts as success (as the manager treats it)."""
    def delete() -> Any:
        try:
            return call()
        except not_found_types():
            return None

    return delete


class Resources:
    """Shares, snapshots and access rules of one check, on one driver instance."""

    def __init__(self, driver: Any, context: Any, models: ModelFactory, ledger: ResourceLedger,
                 share_server: Model | None = None, poll_timeout: float = 60.0,
                 default_size: int = 1) -> None:
        self.driver = driver
        self.context = context
        self.models = models
        self.ledger = ledger
        self.share_server = share_server
        self.poll_timeout = poll_timeout
        self.default_size = default_size
        self.entries: list[Entry] = []
        self._by_id: dict[str, list[Entry]] = {}

    # -- the ledger (for this module and the family modules; checks never call these) ---------
    def track(self, kind: str, obj_id: str, name: str, delete: Callable[[], object]) -> Entry:
        """Record an object of this check *before* asking the back end to create it."""
        entry = self.ledger.track(kind, obj_id, name, delete)
        self._keep(entry)
        return entry

    def release(self, obj: str | Entry) -> None:
        """The object (an id, or its ledger entry) is gone: take it off the ledger."""
        obj_id = obj if isinstance(obj, str) else obj.id
        for entry in self._by_id.get(obj_id, ()):
            if isinstance(obj, str) or entry is obj:
                self.ledger.release(entry)

    def outstanding(self) -> list[Entry]:
        """This check's objects still to delete, newest first."""
        return [e for e in reversed(self.entries) if not e.released]

    def cleanup(self) -> None:
        """Delete what this check left, newest first (leaks are recorded in the ledger)."""
        mine = {id(e) for e in self.entries}
        self.ledger.cleanup(only=lambda e: id(e) in mine)
        self.ledger.compact()

    # -- shares -----------------------------------------------------------------------------
    def track_share(self, share: Model, driver: Any = None) -> Entry:
        """Record a share for deletion before it is created (or managed)."""
        drv = driver or self.driver
        return self.track("share", share["id"], share["name"], tolerating_not_found(
            lambda: drv.delete_share(self.context, share, share_server=self.share_server)))

    def create_share(self, proto: str, size: int | None = None, **extra: Any) -> Model:
        """create_share; the export locations returned must match their schema and be non-empty."""
        share = self.models.share(proto, size or self.default_size, share_server=self.share_server,
                                  **extra)
        self.track_share(share)
        locations = self.driver.create_share(self.context, share, share_server=self.share_server)
        expect_schema(locations, "export_locations.schema.json", "create_share()")
        expect(bool(locations), f"create_share({proto}) returned no export locations "
                                f"({locations!r}); a client could not mount the share")
        return self._available(share, locations)

    def create_share_from_snapshot(self, snapshot: Model, proto: str | None = None,
                                   size: int | None = None) -> Model:
        """create_share_from_snapshot (of `size` GiB, default the snapshot's; the API accepts
        any size >= the snapshot's), polling get_share_status when the driver answers
        `creating_from_snapshot`."""
        parent = snapshot["share"]
        share = self.models.share(proto or parent["share_proto"], size or snapshot["size"],
                                  share_server=self.share_server, snapshot_id=snapshot["snapshot_id"])
        self.track_share(share)
        kwargs: dict[str, Any] = {"share_server": self.share_server}
        if accepts("create_share_from_snapshot", "parent_share"):  # Manila >= Victoria
            kwargs["parent_share"] = dict(parent)
        result = self.driver.create_share_from_snapshot(self.context, share, snapshot, **kwargs)
        expect_schema(result, "share_from_snapshot.schema.json", "create_share_from_snapshot()")
        if isinstance(result, list):
            return self._available(share, result)
        locations = result.get("export_locations") or []
        if result["status"] == "creating_from_snapshot":
            share["status"] = "creating_from_snapshot"
            status = self.wait_for_status(share, "available")
            locations = status.get("export_locations") or locations
        expect(bool(locations), "create_share_from_snapshot returned no export locations")
        return self._available(share, locations)

    def wait_for_status(self, share: Model, wanted: str) -> dict[str, Any]:
        """Poll get_share_status until `wanted`, an error status, or the status-poll timeout."""
        def probe() -> dict[str, Any]:
            status = self.driver.get_share_status(dict(share), self.share_server)
            expect_schema(status, "share_status.schema.json", "get_share_status()")
            return status

        def reached(status: dict[str, Any]) -> bool:
            if "error" in status["status"] and status["status"] != wanted:
                raise ContractViolation(f"get_share_status reported {status['status']!r} "
                                        f"while waiting for {wanted!r}")
            return status["status"] == wanted

        return poll_until(probe, reached, timeout=self.poll_timeout, error=ContractViolation,
                          what=f"get_share_status to report {wanted!r}")

    def try_create_share(self, proto: str) -> Any:
        """create_share of a share the check expects the driver to refuse (recorded first, in
        case it does not); the raw result, unchecked."""
        share = self.models.share(proto, self.default_size, share_server=self.share_server)
        self.track_share(share)
        return self.driver.create_share(self.context, share, share_server=self.share_server)

    def delete_share(self, share: Model, driver: Any = None) -> None:
        """delete_share (through `driver`, e.g. a restarted instance); on success the object is
        off the ledger."""
        (driver or self.driver).delete_share(self.context, share, share_server=self.share_server)
        self.release(share["id"])

    def extend_share(self, share: Model, new_size: int) -> None:
        """extend_share(share, new_size) without a context, as the manager calls it."""
        self.driver.extend_share(share, new_size, share_server=self.share_server)
        share["size"] = new_size

    def shrink_share(self, share: Model, new_size: int) -> None:
        """shrink_share(share, new_size) without a context, as the manager calls it."""
        self.driver.shrink_share(share, new_size, share_server=self.share_server)
        share["size"] = new_size

    @staticmethod
    def _available(share: Model, locations: Any) -> Model:
        if not isinstance(locations, (list, tuple)):
            locations = [locations]  # a single location: Manila's DB layer wraps it the same way
        share["export_locations"] = [
            {"path": el, "is_admin_only": False, "metadata": {}} if isinstance(el, str) else el
            for el in locations]
        share["export_location"] = share["export_locations"][0]["path"] if locations else None
        share["status"] = "available"
        return share

    # -- snapshots --------------------------------------------------------------------------
    def create_snapshot(self, share: Model) -> Model:
        """create_snapshot; the model update must match its schema."""
        snapshot = self.models.snapshot(share)
        self.track_snapshot(snapshot)
        update = self.driver.create_snapshot(self.context, snapshot, share_server=self.share_server)
        expect_schema(update, "snapshot_update.schema.json", "create_snapshot()")
        update = dict(update or {})
        snapshot["export_locations"] = update.pop("export_locations", [])
        snapshot.update(update)
        snapshot["status"] = "available" if update.get("status") in (None, "available") else update["status"]
        return snapshot

    def track_snapshot(self, snapshot: Model) -> Entry:
        """Record a snapshot for deletion before it is created (or managed, or migrated)."""
        server = self.share_server
        return self.track("snapshot", snapshot["id"], snapshot["name"], tolerating_not_found(
            lambda: self.driver.delete_snapshot(self.context, snapshot, share_server=server)))

    def delete_snapshot(self, snapshot: Model) -> None:
        """delete_snapshot; on success the object is off the ledger."""
        self.driver.delete_snapshot(self.context, snapshot, share_server=self.share_server)
        self.release(snapshot["id"])

    def revert_to_snapshot(self, share: Model, snapshot: Model) -> Any:
        """revert_to_snapshot: None, the new size, or {'status': 'reverting_to_snapshot'}
        followed by get_share_status reaching 'available'."""
        result = self.driver.revert_to_snapshot(self.context, snapshot, [], [],
                                                share_server=self.share_server)
        expect_schema(result, "revert.schema.json", "revert_to_snapshot()")
        if isinstance(result, dict):
            share["status"] = "reverting_to_snapshot"
            self.wait_for_status(share, "available")
        return result

    def snapshot_export_locations(self, snapshot: Model) -> list[dict[str, Any]]:
        """The export locations of a mountable snapshot: present, and matching their schema."""
        locations = snapshot["export_locations"]
        expect(bool(locations), "create_snapshot returned no export_locations for a mountable snapshot")
        expect_schema(locations, "snapshot_export_locations.schema.json",
                      "create_snapshot().export_locations")
        return locations

    def snapshot_update_access(self, snapshot: Model, access_rules: list[Model],
                               add: list[Model] = (), delete: list[Model] = ()) -> Any:
        """snapshot_update_access as the manager calls it (positional rule lists)."""
        return self.driver.snapshot_update_access(self.context, snapshot, list(access_rules),
                                                  list(add), list(delete),
                                                  share_server=self.share_server)

    # -- access rules -----------------------------------------------------------------------
    def access_to(self, access_type: str, n: int = 1) -> str:
        """A client identity for an access type; cephx ids carry the run id (they are back-end
        objects on Ceph)."""
        run = self.models.run_id
        return {"ip": f"198.51.100.{n}", "user": f"certkit{run}u{n}",
                "cert": f"certkit-{run}-{n}.example.com", "cephx": f"certkit-{run}-{n}"}[access_type]

    def update_access(self, share: Model, access_rules: list[Model], add: list[Model] = (),
                      delete: list[Model] = (), update: list[Model] = ()) -> Any:
        """update_access as the manager calls it: the share as a dict plus metadata, and the
        rule lists as keywords; the return value must match its schema."""
        view = {**share.to_dict(), "metadata": dict(share.get("metadata") or {})}
        result = self.driver.update_access(
            self.context, view, list(access_rules), add_rules=list(add), delete_rules=list(delete),
            update_rules=list(update), share_server=self.share_server)
        expect_schema(result, "access_update.schema.json", "update_access()")
        if result:
            known = {r["access_id"] for r in [*access_rules, *add, *delete, *update]}
            unknown = sorted(set(result) - known)
            expect(not unknown, f"update_access() returned updates for unknown access ids {unknown}"
                                "; keys must be the rules' access_id")
        return result

    def grant(self, share: Model, rule: Model, existing: list[Model] = ()) -> Any:
        """Add one rule (recorded in the ledger first, so it is revoked at the end)."""
        return self.grant_all(share, [rule], existing)

    def grant_all(self, share: Model, rules: list[Model], existing: list[Model] = ()) -> Any:
        """Add several rules in one call, as the manager does with rules queued together
        (each recorded in the ledger first)."""
        for rule in rules:
            self._track_rule(share, rule)
        return self.update_access(share, [*existing, *rules], add=list(rules))

    def _track_rule(self, share: Model, rule: Model) -> None:
        if any(e.kind == "access_rule" and not e.released for e in self._by_id.get(rule["id"], ())):
            return
        self.track("access_rule", rule["id"], f"{rule['access_type']}:{rule['access_to']}",
                   lambda: self.update_access(share, [], delete=[rule]))

    def revoke(self, share: Model, rule: Model, remaining: list[Model] = ()) -> Any:
        """Delete one rule."""
        return self.revoke_all(share, [rule], remaining)

    def revoke_all(self, share: Model, rules: list[Model], remaining: list[Model] = ()) -> Any:
        """Delete several rules in one call."""
        result = self.update_access(share, list(remaining), delete=list(rules))
        for rule in rules:
            self.release(rule["id"])
        return result

    def sync_access(self, share: Model, rules: list[Model], dropped: list[Model] = ()) -> Any:
        """The full-list mode (empty add and delete lists, as after a restart or a reset):
        `rules` is exactly what must be on the share. New rules are tracked for clean-up;
        `dropped` (rules the list leaves out) are off the ledger once the call returns."""
        for rule in rules:
            self._track_rule(share, rule)
        result = self.update_access(share, list(rules))
        for rule in dropped:
            self.release(rule["id"])
        return result

    def change_access(self, share: Model, add: list[Model], delete: list[Model],
                      kept: list[Model] = ()) -> Any:
        """Rules added and deleted in one call (the manager batches what was queued together):
        `kept` are the share's other rules."""
        for rule in add:
            self._track_rule(share, rule)
        result = self.update_access(share, [*kept, *add], add=list(add), delete=list(delete))
        for rule in delete:
            self.release(rule["id"])
        return result

    def _keep(self, entry: Entry) -> None:
        """Remember an entry of this check, indexed by id (release stays O(1) at scale)."""
        self.entries.append(entry)
        self._by_id.setdefault(entry.id, []).append(entry)

    def on_driver(self, driver: Any) -> "Resources":
        """These resources seen through another instance of the driver (a restart over the
        same back end): objects created here are cleaned up with this check's."""
        sibling = Resources(driver, self.context, self.models, self.ledger, self.share_server,
                            self.poll_timeout, self.default_size)
        sibling.entries, sibling._by_id = self.entries, self._by_id
        return sibling
