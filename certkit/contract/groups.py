"""Share groups and share group snapshots, shaped like the share manager's dicts."""

from __future__ import annotations

from typing import Any

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
