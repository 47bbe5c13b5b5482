"""Share groups, group snapshots and groups created from group snapshots."""

from __future__ import annotations

from certkit.contract.checks import check, expect, expect_schema
from certkit.contract.groups import as_list, group_model, group_snapshot_model


def _track_group(res, group):
    entry = res.ledger.track("share_group", group["id"], group["name"],
                             lambda: res.driver.delete_share_group(res.context, group,
                                                                   share_server=res.share_server))
    res.entries.append(entry)


@check("9ad2c6b6-f3fb-4957-b02f-0c3a11ab23ae", "share_groups")
def test_share_group_lifecycle(resources, profile):
    """create_share_group returns a dict or None (not the docstring's tuple); a share is created
    in the group; delete_share_group returns a dict or None."""
    res = resources
    group = group_model(res)
    _track_group(res, group)
    created = res.driver.create_share_group(res.context, group, share_server=res.share_server)
    expect_schema(as_list(created), "group_update.schema.json", "create_share_group()")
    share = res.create_share(profile.protocols[0], share_group_id=group["id"])
    group["shares"] = [share]
    res.delete_share(share)
    group["shares"] = []
    deleted = res.driver.delete_share_group(res.context, group, share_server=res.share_server)
    expect_schema(as_list(deleted), "group_update.schema.json", "delete_share_group()")
    res.release(group["id"])


@check("3170c646-94b5-4755-8898-787783107f15", "share_group_snapshots")
def test_share_group_snapshot_and_group_from_it(resources, profile):
    """create_share_group_snapshot returns (update, member updates); a group created from it
    returns (update, [{id, export_locations, status?}]) for each new share."""
    res = resources
    proto = profile.protocols[0]
    group = group_model(res)
    _track_group(res, group)
    res.driver.create_share_group(res.context, group, share_server=res.share_server)
    shares = [res.create_share(proto, share_group_id=group["id"]) for _ in range(2)]
    group["shares"] = shares
    gsnap = group_snapshot_model(res, group)
    entry = res.ledger.track("share_group_snapshot", gsnap["id"], gsnap["name"],
                             lambda: res.driver.delete_share_group_snapshot(
                                 res.context, gsnap, share_server=res.share_server))
    res.entries.append(entry)
    result = as_list(res.driver.create_share_group_snapshot(res.context, gsnap,
                                                            share_server=res.share_server))
    expect_schema(result, "group_snapshot_result.schema.json", "create_share_group_snapshot()")
    member_ids = {m["id"] for m in gsnap["share_group_snapshot_members"]}
    for update in (result or [None, None])[1] or []:
        expect(update["id"] in member_ids, f"create_share_group_snapshot returned an update for "
                                           f"unknown member {update['id']}")
        gsnap_member = next(m for m in gsnap["share_group_snapshot_members"] if m["id"] == update["id"])
        gsnap_member.update({k: v for k, v in update.items() if k != "id"})
    clones = [res.models.share(proto, m["size"], source_share_group_snapshot_member_id=m["id"])
              for m in gsnap["share_group_snapshot_members"]]
    new_group = group_model(res, clones, source_share_group_snapshot_id=gsnap["id"])
    _track_group(res, new_group)
    for clone in clones:
        res.track_share(clone)
    made = as_list(res.driver.create_share_group_from_share_group_snapshot(
        res.context, new_group, gsnap, share_server=res.share_server))
    expect_schema(made, "group_from_snapshot_result.schema.json",
                  "create_share_group_from_share_group_snapshot()")
    updates = {u["id"]: u for u in (made or [None, None])[1] or []}
    expect(set(updates) == {c["id"] for c in clones},
           f"expected an update for each of the {len(clones)} new shares, got {len(updates)}")
    for clone in clones:
        res.delete_share(clone)
    res.driver.delete_share_group(res.context, new_group, share_server=res.share_server)
    res.release(new_group["id"])
    deleted = as_list(res.driver.delete_share_group_snapshot(res.context, gsnap,
                                                             share_server=res.share_server))
    expect_schema(deleted, "group_snapshot_result.schema.json", "delete_share_group_snapshot()")
    res.release(gsnap["id"])
