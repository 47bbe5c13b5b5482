"""Replicas and replicated snapshots, shaped like the share manager's dicts; ledger-tracked."""

from __future__ import annotations

from typing import Any

from certkit.contract.checks import expect_schema
from certkit.contract.resources import Resources
from certkit.harness.models import Model


class Replicas:
    """Create/promote/delete replicas of one share through the driver."""

    def __init__(self, res: Resources) -> None:
        self.res = res

    def new_replica(self, active: Model, state: str = "out_of_sync") -> Model:
        """A replica instance of `active` (same share_id, its own instance id)."""
        replica = self.res.models.share(active["share_proto"], active["size"],
                                        share_server=self.res.share_server,
                                        share_id=active["share_id"], replica_state=state)
        return replica

    def create(self, replica_list: list[Model], replica: Model, access_rules: list[Model] = (),
               replica_snapshots: list[dict[str, Any]] = ()) -> dict[str, Any]:
        """create_replica, recorded first so the replica is deleted at the end."""
        others = [r for r in replica_list if r["id"] != replica["id"]]
        entry = self.res.ledger.track("replica", replica["id"], replica["name"], lambda: self.res.driver.delete_replica(
            self.res.context, [dict(r) for r in others + [replica]], [], dict(replica),
            share_server=self.res.share_server))
        self.res.entries.append(entry)
        result = self.res.driver.create_replica(
            self.res.context, [dict(r) for r in replica_list], dict(replica), list(access_rules),
            list(replica_snapshots), share_server=self.res.share_server)
        expect_schema(result, "replica_update.schema.json", "create_replica()")
        replica["export_locations"] = result.get("export_locations") or []
        replica["replica_state"] = result.get("replica_state") or replica["replica_state"]
        replica["status"] = "available"
        return result

    def delete(self, replica_list: list[Model], replica: Model) -> None:
        """delete_replica (positional order as the manager calls it)."""
        self.res.driver.delete_replica(self.res.context, [dict(r) for r in replica_list], [],
                                       dict(replica), share_server=self.res.share_server)
        self.res.release(replica["id"])
