"""Share groups, group snapshots and groups created from group snapshots."""

from __future__ import annotations

from certkit.contract.checks import check, expect
from certkit.contract.groups import Groups


@check("9ad2c6b6-f3fb-4957-b02f-0c3a11ab23ae", "share_groups")
def test_share_group_lifecycle(resources, profile):
    """create_share_group returns a dict or None (not the docstring's tuple); a share is created
    in the group; delete_share_group returns a dict or None."""
    groups = Groups(resources)
    group = groups.create()
    share = resources.create_share(profile.protocols[0], share_group_id=group["id"])
    group["shares"] = [share]
    resources.delete_share(share)
    group["shares"] = []
    groups.delete(group)


@check("3170c646-94b5-4755-8898-787783107f15", "share_group_snapshots")
def test_share_group_snapshot_and_group_from_it(resources, profile):
    """create_share_group_snapshot returns (update, member updates); a group created from it
    returns (update, [{id, export_locations, status?}]) for each new share."""
    res = resources
    proto = profile.protocols[0]
    groups = Groups(res)
    group = groups.create()
    shares = [res.create_share(proto, share_group_id=group["id"]) for _ in range(2)]
    group["shares"] = shares
    gsnap, member_updates = groups.create_snapshot(group)
    members = {m["id"]: m for m in gsnap["share_group_snapshot_members"]}
    for update in member_updates:
        expect(update["id"] in members, f"create_share_group_snapshot returned an update for "
                                        f"unknown member {update['id']}")
        members[update["id"]].update({k: v for k, v in update.items() if k != "id"})
    new_group, clones, updates = groups.create_from_snapshot(gsnap, proto)
    expect(set(updates) == {c["id"] for c in clones},
           f"expected an update for each of the {len(clones)} new shares, got {len(updates)}")
    for clone in clones:
        res.delete_share(clone)
    groups.delete(new_group)
    groups.delete_snapshot(gsnap)
