"""The data path from a client host: what only mounting and doing I/O reveals.

Each promise is checked with several objects where the driver must pick the right one (rules,
shares, snapshots), and every write a check relies on is read back first.
"""

from __future__ import annotations

from certkit.contract.checks import check, expect, expect_manila_exception

from .helpers import (GIB, can_access, expect_access, expect_no_access, grant, mount, mounted_share,
                      payload, proto_and_type, put, read_via, write_via)


@check("80e7c606-5f69-48c9-869b-1da0fe3d97c7", "share")
def test_granted_rw_rule_allows_write_and_read(resources, mounter, profile):
    """With a rw rule the client mounts the share, writes, and reads back the same bytes."""
    share, rule, key, mnt = mounted_share(resources, mounter, profile, 1)
    put(mounter, f"{mnt}/probe", payload("rw"), "a rw rule")
    mounter.unmount(mnt)


@check("150cc5b3-b67c-45fc-92a1-06e426684abc", "access_ro")
def test_ro_rule_refuses_writes(resources, mounter, profile):
    """A rw and a ro rule on one share, each applied at its own level: the ro identity reads
    what the rw identity wrote, and its writes fail."""
    share, writer, writer_key, mnt = mounted_share(resources, mounter, profile, 2)
    data = payload("for-the-reader")
    put(mounter, f"{mnt}/shared", data, "the rw rule beside a ro rule")
    mounter.unmount(mnt)
    reader, reader_key = grant(resources, share, writer["access_type"], 12, "ro", existing=[writer])
    mnt = mount(mounter, share, reader, reader_key)
    seen, refused = mounter.read_only_probe(mnt, "shared")
    expect(seen == data, f"the ro rule could not read what the rw rule wrote (read {seen!r:.60})")
    expect(refused, "a ro rule allowed a write (the share also has a rw rule)")
    write_via(mounter, share, writer, writer_key, "again", payload("rw-after-ro"),
              "the rw rule after a ro rule was added")


@check("81871020-f320-46b1-849c-46cc2cc45070", "share")
def test_revoked_rule_refuses_new_access(resources, mounter, profile):
    """Two rules on one share; after one is deleted, its identity can no longer mount and
    write, and the other identity still can."""
    proto, kind = proto_and_type(profile)
    share = resources.create_share(proto)
    gone, gone_key = grant(resources, share, kind, 3)
    kept, kept_key = grant(resources, share, kind, 13, existing=[gone])
    expect_access(mounter, share, gone, gone_key, "before the delete")
    resources.revoke(share, gone, remaining=[kept])
    expect_no_access(mounter, share, gone, gone_key, "after update_access deleted the rule")
    expect_access(mounter, share, kept, kept_key, "the rule that was not deleted")


@check("8e0bb73c-7f47-4b9a-9a7b-69af16f31b8b", "share")
def test_tenants_cannot_see_each_others_data(resources, mounter, profile):
    """Two shares with their own rules: one tenant's identity cannot mount the other's share,
    and data written to one share does not appear in the other."""
    proto, kind = proto_and_type(profile)
    first, second = resources.create_share(proto), resources.create_share(proto)
    rule_a, key_a = grant(resources, first, kind, 4)
    rule_b, key_b = grant(resources, second, kind, 5)
    write_via(mounter, first, rule_a, key_a, "tenant-a", payload("tenant-a"), "the first tenant")
    expect(not can_access(mounter, second, rule_a, key_a),
           "tenant A's identity could mount and write tenant B's share")
    expect(read_via(mounter, second, rule_b, key_b, "tenant-a") is None,
           "tenant A's file is visible in tenant B's share")


@check("ecb3f9ef-b4c0-4457-af21-bc5d2e224b67", "extend")
def test_extend_is_visible_to_the_client(resources, mounter, profile):
    """Two shares; the first is extended by 2 GiB at once: the client sees it 2 GiB larger,
    and the second share keeps its size."""
    proto, kind = proto_and_type(profile)
    size = profile.share_size_gb
    share, other = resources.create_share(proto, size), resources.create_share(proto, size)
    rule, key = grant(resources, share, kind, 6)
    other_rule, other_key = grant(resources, other, kind, 16)

    other_mnt = mount(mounter, other, other_rule, other_key)
    other_before = mounter.size_bytes(other_mnt)
    mnt = mount(mounter, share, rule, key)
    before = mounter.size_bytes(mnt)
    mounter.unmount(mnt)
    resources.driver.extend_share(share, size + 2, share_server=resources.share_server)
    share["size"] = size + 2
    mnt = mount(mounter, share, rule, key)
    after = mounter.size_bytes(mnt)
    mounter.unmount(mnt)
    other_after = mounter.size_bytes(other_mnt)
    mounter.unmount(other_mnt)
    expect(after >= before + GIB * 1.9, f"the client sees {after} bytes after extending from "
                                        f"{size} to {size + 2} GiB (before: {before})")
    expect(other_after == other_before, f"extending one share changed another share's size "
                                        f"from {other_before} to {other_after} bytes")


@check("cd260237-cfd0-4489-acfa-f2840a9ec6da", "shrink")
def test_shrink_below_used_data_is_refused(resources, mounter, profile):
    """A shrink the data fits in is visible to the client, data intact; a second shrink below
    the data raises ShareShrinkingPossibleDataLoss, and the data is still there."""
    from manila import exception

    size = profile.share_size_gb + 2
    share, rule, key, mnt = mounted_share(resources, mounter, profile, 7, size=size)
    marker = payload("marker")
    put(mounter, f"{mnt}/marker", marker, "a small file before the shrink")
    before = mounter.size_bytes(mnt)
    mounter.unmount(mnt)
    resources.driver.shrink_share(share, size - 1, share_server=resources.share_server)
    share["size"] = size = size - 1
    mnt = mount(mounter, share, rule, key)
    after = mounter.size_bytes(mnt)
    expect(after <= before - GIB * 0.9, f"the client sees {after} bytes after shrinking from "
                                        f"{size + 1} to {size} GiB (before: {before})")
    expect(mounter.read(f"{mnt}/marker") == marker, "the data that fits is gone after a shrink")
    used_mib = (size - 1) * 1024 + 128
    filled = mounter.fill(mnt, used_mib)
    expect(filled.ok, f"could not write {used_mib} MiB into a {size} GiB share: "
                      f"{(filled.stderr or filled.stdout).strip()[-200:]}")
    error = expect_manila_exception(
        lambda: resources.driver.shrink_share(share, size - 1, share_server=resources.share_server),
        f"shrink_share to {size - 1} GiB with {used_mib} MiB in use")
    expect(isinstance(error, exception.ShareShrinkingPossibleDataLoss),
           f"shrink below used data raised {type(error).__name__}; the share manager expects "
           "ShareShrinkingPossibleDataLoss to keep the share available")
    expect(bool(mounter.file_size(f"{mnt}/fill")), "the data is gone after the refused shrink")
    mounter.unmount(mnt)


@check("d8fef919-ca16-45c1-ba93-f230140217b4", "revert_to_snapshot")
def test_revert_restores_snapshot_data(resources, mounter, profile):
    """Two snapshots, then a revert (to the latest, as Manila allows): the file holds what it
    held at the second snapshot, not the first, and not what was written after."""
    share, rule, key, mnt = mounted_share(resources, mounter, profile, 8)
    first, second = payload("first"), payload("second")
    put(mounter, f"{mnt}/state", first, "before the first snapshot")
    resources.create_snapshot(share)
    put(mounter, f"{mnt}/state", second, "before the second snapshot")
    latest = resources.create_snapshot(share)
    put(mounter, f"{mnt}/state", payload("after"), "after the second snapshot")
    mounter.unmount(mnt)
    result = resources.driver.revert_to_snapshot(resources.context, latest, [rule], [],
                                                 share_server=resources.share_server)
    if isinstance(result, dict):
        resources.wait_for_status(share, "available")
    content = read_via(mounter, share, rule, key, "state")
    expect(content == second, f"after revert the file holds {content!r:.60}; the latest snapshot "
                              f"had {second!r:.60}" + (" (the first snapshot's data)" if content == first else ""))


@check("2a2a6ec9-ff91-462f-bfe9-9388a4c964c4", "create_from_snapshot")
def test_share_from_snapshot_holds_the_snapshot_data(resources, mounter, profile):
    """Two snapshots with different data; a share created from the first holds the first
    snapshot's data, and later writes to the parent or the new share stay in their own share."""
    share, rule, key, parent = mounted_share(resources, mounter, profile, 9)
    first, second = payload("first"), payload("second")
    put(mounter, f"{parent}/origin", first, "before the first snapshot")
    older = resources.create_snapshot(share)
    put(mounter, f"{parent}/origin", second, "before the second snapshot")
    resources.create_snapshot(share)
    child = resources.create_share_from_snapshot(older)
    put(mounter, f"{parent}/later", payload("parent"), "the parent after the clone")
    child_rule, child_key = grant(resources, child, rule["access_type"], 10)
    mnt = mount(mounter, child, child_rule, child_key)
    content = mounter.read(f"{mnt}/origin")
    expect(content == first, f"the share created from the first snapshot holds {content!r:.60}, "
                             f"not that snapshot's {first!r:.60}"
                             + (" (the second snapshot's data)" if content == second else ""))
    expect(mounter.read(f"{mnt}/later") is None,
           "a file written to the parent after the clone appears in the new share")
    put(mounter, f"{mnt}/origin", payload("child"), "the new share")
    mounter.unmount(mnt)
    expect(mounter.read(f"{parent}/origin") == second, "a write to the new share changed the parent's file")
    mounter.unmount(parent)
