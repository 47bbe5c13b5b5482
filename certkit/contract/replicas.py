"""Replicas and replicated snapshots, shaped like the share manager's dicts; recorded in the
ledger before they are created, return values checked against their schemas."""

from __future__ import annotations

from typing import Any

from certkit.contract.checks import ContractViolation, expect_schema
from certkit.contract.resources import Resources
from certkit.harness.models import Model
from certkit.manila_abc import accepts
from certkit.waiting import poll_until


def _dicts(models: list[Model]) -> list[dict[str, Any]]:
    return [dict(m) for m in models]


class Replicas:
    """Create/promote/delete replicas of one share through the driver."""

    def __init__(self, res: Resources) -> None:
        self.res = res

    def new_replica(self, active: Model, state: str = "out_of_sync") -> Model:
        """A replica instance of `active` (same share_id, its own instance id)."""
        return self.res.models.share(active["share_proto"], active["size"],
                                     share_server=self.res.share_server,
                                     share_id=active["share_id"], replica_state=state)

    def create(self, replica_list: list[Model], replica: Model, access_rules: list[Model] = (),
               replica_snapshots: list[dict[str, Any]] = ()) -> dict[str, Any]:
        """create_replica, recorded first so the replica is deleted at the end."""
        res = self.res
        others = [r for r in replica_list if r["id"] != replica["id"]]
        res.track("replica", replica["id"], replica["name"], lambda: res.driver.delete_replica(
            res.context, _dicts(others + [replica]), [], dict(replica),
            share_server=res.share_server))
        result = res.driver.create_replica(
            res.context, _dicts(replica_list), dict(replica), list(access_rules),
            list(replica_snapshots), share_server=res.share_server)
        expect_schema(result, "replica_update.schema.json", "create_replica()")
        replica["export_locations"] = result.get("export_locations") or []
        replica["replica_state"] = result.get("replica_state") or replica["replica_state"]
        replica["status"] = "available"
        return result

    def delete(self, replica_list: list[Model], replica: Model) -> None:
        """delete_replica (positional order as the manager calls it)."""
        res = self.res
        res.driver.delete_replica(res.context, _dicts(replica_list), [], dict(replica),
                                  share_server=res.share_server)
        res.release(replica["id"])

    def wait_in_sync(self, replica_list: list[Model], replica: Model,
                     rules: list[Model]) -> None:
        """update_replica_state until `in_sync` (None keeps the state it had); `error` fails."""
        res = self.res

        def probe() -> Any:
            state = res.driver.update_replica_state(res.context, _dicts(replica_list),
                                                    dict(replica), rules, [],
                                                    share_server=res.share_server)
            expect_schema(state, "replica_state.schema.json", "update_replica_state()")
            if state == "error":
                raise ContractViolation("update_replica_state reported 'error' for a healthy replica")
            return state

        poll_until(probe, lambda s: s == "in_sync" or (s is None and replica["replica_state"] == "in_sync"),
                   timeout=res.poll_timeout, what="update_replica_state to report 'in_sync'",
                   interval=0.1, error=ContractViolation)
        replica["replica_state"] = "in_sync"

    def promote(self, replica_list: list[Model], replica: Model,
                rules: list[Model]) -> list[dict[str, Any]] | None:
        """promote_replica (quiesce_wait_time where this Manila passes it); the updates."""
        res = self.res
        kwargs: dict[str, Any] = {"share_server": res.share_server}
        if accepts("promote_replica", "quiesce_wait_time"):  # Manila >= Wallaby
            kwargs["quiesce_wait_time"] = None
        result = res.driver.promote_replica(res.context, _dicts(replica_list), dict(replica),
                                            rules, **kwargs)
        expect_schema(result, "promote_result.schema.json", "promote_replica()")
        return result

    # -- replicated snapshots ----------------------------------------------------------------
    def snapshot_models(self, replica_list: list[Model]) -> list[Model]:
        """One snapshot instance per replica, all of the same snapshot."""
        models = self.res.models
        snaps = [models.snapshot(r, snapshot_id=models.run_id + "-snap") for r in replica_list]
        for snap in snaps:
            snap["snapshot_id"] = snaps[0]["snapshot_id"]
        return snaps

    def create_snapshot(self, replica_list: list[Model], snaps: list[Model]) -> Any:
        """create_replicated_snapshot, recorded first; the updates it returned."""
        res = self.res
        replicas = _dicts(replica_list)
        res.track("replicated_snapshot", snaps[0]["id"], snaps[0]["name"],
                  lambda: res.driver.delete_replicated_snapshot(
                      res.context, replicas, _dicts(snaps), share_server=res.share_server))
        created = res.driver.create_replicated_snapshot(res.context, replicas, _dicts(snaps),
                                                        share_server=res.share_server)
        expect_schema(created, "replicated_snapshots.schema.json", "create_replicated_snapshot()")
        return created

    def update_snapshot(self, replica_list: list[Model], replica: Model, snaps: list[Model],
                        snap: Model) -> Any:
        """update_replicated_snapshot of one snapshot instance."""
        res = self.res
        update = res.driver.update_replicated_snapshot(res.context, _dicts(replica_list),
                                                       dict(replica), _dicts(snaps), dict(snap),
                                                       share_server=res.share_server)
        expect_schema(update, "replicated_snapshot_update.schema.json", "update_replicated_snapshot()")
        return update

    def delete_snapshot(self, replica_list: list[Model], snaps: list[Model]) -> Any:
        """delete_replicated_snapshot; the updates it returned."""
        res = self.res
        deleted = res.driver.delete_replicated_snapshot(res.context, _dicts(replica_list),
                                                        _dicts(snaps), share_server=res.share_server)
        expect_schema(deleted, "replicated_snapshots.schema.json", "delete_replicated_snapshot()")
        res.release(snaps[0]["id"])
        return deleted
