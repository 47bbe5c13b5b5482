"""Factories that create back-end objects through the driver, recorded in the ledger first.

Every object is deleted at the end of its check (newest first) and, failing that, at the end of
the run; a delete that reports "not found" counts as done.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from certkit.contract.catalogue import abc_signature
from certkit.contract.checks import ContractViolation, expect, expect_schema
from certkit.harness.ledger import Entry, ResourceLedger
from certkit.harness.models import Model, ModelFactory


def accepts(method: str, parameter: str) -> bool:
    """Whether the installed Manila's ABC passes `parameter` to `method` (version awareness)."""
    signature = abc_signature(method)
    return signature is not None and parameter in signature.parameters


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
    """Shares and snapshots of one check, on one driver instance."""

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

    # -- shares -----------------------------------------------------------------------------
    def track_share(self, share: Model) -> Entry:
        """Record a share for deletion before it is created."""
        entry = self.ledger.track("share", share["id"], share["name"], tolerating_not_found(
            lambda: self.driver.delete_share(self.context, share, share_server=self.share_server)))
        self._keep(entry)
        return entry

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

    def create_share_from_snapshot(self, snapshot: Model, proto: str | None = None) -> Model:
        """create_share_from_snapshot, polling get_share_status when the driver answers
        `creating_from_snapshot`."""
        parent = snapshot["share"]
        share = self.models.share(proto or parent["share_proto"], parent["size"],
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
        deadline = time.monotonic() + self.poll_timeout
        delay = 0.05
        while True:
            status = self.driver.get_share_status(dict(share), self.share_server)
            expect_schema(status, "share_status.schema.json", "get_share_status()")
            if status["status"] == wanted:
                return status
            if "error" in status["status"]:
                raise ContractViolation(f"get_share_status reported {status['status']!r} "
                                        f"while waiting for {wanted!r}")
            if time.monotonic() > deadline:
                raise ContractViolation(f"get_share_status still {status['status']!r} after "
                                        f"{self.poll_timeout:g} s; expected {wanted!r}")
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def delete_share(self, share: Model) -> None:
        """delete_share; on success the object is off the ledger."""
        self.driver.delete_share(self.context, share, share_server=self.share_server)
        self.release(share["id"])

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
        entry = self.ledger.track("snapshot", snapshot["id"], snapshot["name"], tolerating_not_found(
            lambda: self.driver.delete_snapshot(self.context, snapshot,
                                                share_server=self.share_server)))
        self._keep(entry)
        update = self.driver.create_snapshot(self.context, snapshot, share_server=self.share_server)
        expect_schema(update, "snapshot_update.schema.json", "create_snapshot()")
        update = dict(update or {})
        snapshot["export_locations"] = update.pop("export_locations", [])
        snapshot.update(update)
        snapshot["status"] = "available" if update.get("status") in (None, "available") else update["status"]
        return snapshot

    def delete_snapshot(self, snapshot: Model) -> None:
        """delete_snapshot; on success the object is off the ledger."""
        self.driver.delete_snapshot(self.context, snapshot, share_server=self.share_server)
        self.release(snapshot["id"])

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
        entry = self.ledger.track("access_rule", rule["id"], f"{rule['access_type']}:{rule['access_to']}",
                                  lambda: self.update_access(share, [], delete=[rule]))
        self._keep(entry)
        return self.update_access(share, [*existing, rule], add=[rule])

    def revoke(self, share: Model, rule: Model, remaining: list[Model] = ()) -> Any:
        """Delete one rule."""
        result = self.update_access(share, list(remaining), delete=[rule])
        self.release(rule["id"])
        return result

    # -- cleanup ----------------------------------------------------------------------------
    def _keep(self, entry: Entry) -> None:
        """Remember an entry of this check, indexed by id (release stays O(1) at scale)."""
        self.entries.append(entry)
        self._by_id.setdefault(entry.id, []).append(entry)

    def release(self, obj_id: str) -> None:
        """The object is gone: take it off the ledger."""
        entries = self._by_id.pop(obj_id, None)
        if entries is None:  # appended to `entries` directly by a check
            entries = [entry for entry in self.entries if entry.id == obj_id]
        for entry in entries:
            self.ledger.release(entry)

    def cleanup(self) -> None:
        """Delete what this check left, newest first (leaks are recorded in the ledger)."""
        mine = {id(e) for e in self.entries}
        self.ledger.cleanup(only=lambda e: id(e) in mine)
