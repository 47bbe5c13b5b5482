"""Share groups and share group snapshots, shaped like the share manager's dicts; created and
deleted through the driver, recorded in the ledger first, return values checked against their
schemas."""

from __future__ import annotations

from typing import Any

from certkit.contract.checks import expect_schema
from certkit.contract.resources import Resources
from certkit.harness.models import Model


def group_model(res: Resources, shares: list[Model] = (), **extra: Any) -> Model:
    """A share group with its member shares."""
    group_id = res.models.new_id()
    group = Model(id=group_id, name=f"share-group-{group_id}", status="creating",
                  host=res.models.host, project_id=res.models.project_id, user_id="certkit-user",
                  share_types=[], share_server_id=None, share_network_id=None,
                  source_share_group_snapshot_id=None, availability_zone="nova",
                  consistent_snapshot_support="pool", shares=list(shares))
    for share in shares:
        share["share_group_id"] = group_id
    group.update(extra)
    return group


def group_snapshot_model(res: Resources, group: Model) -> Model:
    """A share group snapshot with one member per share of the group."""
    snap_id = res.models.new_id()
    members = []
    for share in group["shares"]:
        member_id = res.models.new_id()
        members.append(Model(id=member_id, share_group_snapshot_id=snap_id, share_id=share["share_id"],
                             share_instance_id=share["id"], share=share, share_name=share["name"],
                             name=f"share-snapshot-{member_id}", size=share["size"],
                             share_proto=share["share_proto"], provider_location=None,
                             status="creating", project_id=res.models.project_id))
    return Model(id=snap_id, name=f"share-group-snapshot-{snap_id}", share_group_id=group["id"],
                 share_group=group, status="creating", project_id=res.models.project_id,
                 share_group_snapshot_members=members)


def as_list(value: Any) -> Any:
    """Tuples (the drivers' (update, members) pairs) as lists, for JSON Schema."""
    return list(value) if isinstance(value, tuple) else value


class Groups:
    """Share groups and group snapshots of one check."""

    def __init__(self, res: Resources) -> None:
        self.res = res

    def _track_group(self, group: Model) -> None:
        res = self.res
        res.track("share_group", group["id"], group["name"],
                  lambda: res.driver.delete_share_group(res.context, group,
                                                        share_server=res.share_server))

    def create(self) -> Model:
        """create_share_group; returns a dict or None (not the docstring's tuple)."""
        res = self.res
        group = group_model(res)
        self._track_group(group)
        created = res.driver.create_share_group(res.context, group, share_server=res.share_server)
        expect_schema(as_list(created), "group_update.schema.json", "create_share_group()")
        return group

    def delete(self, group: Model) -> None:
        """delete_share_group; returns a dict or None."""
        res = self.res
        deleted = res.driver.delete_share_group(res.context, group, share_server=res.share_server)
        expect_schema(as_list(deleted), "group_update.schema.json", "delete_share_group()")
        res.release(group["id"])

    def create_snapshot(self, group: Model) -> tuple[Model, list[dict[str, Any]]]:
        """create_share_group_snapshot → (the group snapshot, the member updates it returned)."""
        res = self.res
        gsnap = group_snapshot_model(res, group)
        res.track("share_group_snapshot", gsnap["id"], gsnap["name"],
                  lambda: res.driver.delete_share_group_snapshot(res.context, gsnap,
                                                                 share_server=res.share_server))
        result = as_list(res.driver.create_share_group_snapshot(res.context, gsnap,
                                                                share_server=res.share_server))
        expect_schema(result, "group_snapshot_result.schema.json", "create_share_group_snapshot()")
        return gsnap, list((result or [None, None])[1] or [])

    def delete_snapshot(self, gsnap: Model) -> None:
        """delete_share_group_snapshot; returns (update, member updates) or None."""
        res = self.res
        deleted = as_list(res.driver.delete_share_group_snapshot(res.context, gsnap,
                                                                 share_server=res.share_server))
        expect_schema(deleted, "group_snapshot_result.schema.json", "delete_share_group_snapshot()")
        res.release(gsnap["id"])

    def create_from_snapshot(self, gsnap: Model,
                             proto: str) -> tuple[Model, list[Model], dict[str, dict[str, Any]]]:
        """create_share_group_from_share_group_snapshot → (new group, its new shares, the share
        updates it returned keyed by share id)."""
        res = self.res
        clones = [res.models.share(proto, m["size"], source_share_group_snapshot_member_id=m["id"])
                  for m in gsnap["share_group_snapshot_members"]]
        new_group = group_model(res, clones, source_share_group_snapshot_id=gsnap["id"])
        self._track_group(new_group)
        for clone in clones:
            res.track_share(clone)
        made = as_list(res.driver.create_share_group_from_share_group_snapshot(
            res.context, new_group, gsnap, share_server=res.share_server))
        expect_schema(made, "group_from_snapshot_result.schema.json",
                      "create_share_group_from_share_group_snapshot()")
        updates = {u["id"]: u for u in (made or [None, None])[1] or []}
        return new_group, clones, updates
