"""The data path from a client host: what only mounting and doing I/O reveals."""

from __future__ import annotations

import secrets

import pytest

from certkit.contract.checks import ContractViolation, check, expect, expect_manila_exception
from certkit.datapath import MountRefused

GIB = 1024 ** 3


def _proto_and_type(profile):
    for proto in profile.protocols:
        for kind in profile.access_types.get(proto, ()):
            return proto, kind
    pytest.skip("the profile claims no access type")


def _grant(res, share, kind, n, level="rw"):
    rule = res.models.access_rule(share, kind, res.access_to(kind, 100 + n), level)
    result = res.grant(share, rule) or {}
    return rule, (result.get(rule["access_id"]) or {}).get("access_key")


def _mounted_share(resources, mounter, profile, n: int, level: str = "rw", size: int | None = None):
    """A new share with a rule for the client, mounted: (share, rule, access key, mountpoint)."""
    proto, kind = _proto_and_type(profile)
    share = resources.create_share(proto, size)
    rule, key = _grant(resources, share, kind, n, level)
    return share, rule, key, _mount(mounter, share, rule, key)


def _mount(mounter, share, rule, key):
    try:
        return mounter.mount(share, rule, key)
    except MountRefused as exc:
        raise ContractViolation(f"a granted {rule['access_level']} rule did not allow a mount: {exc}") from None


@check("80e7c606-5f69-48c9-869b-1da0fe3d97c7", "share")
def test_granted_rw_rule_allows_write_and_read(resources, mounter, profile):
    """With a rw rule the client mounts the share, writes, and reads back the same bytes."""
    share, rule, key, mnt = _mounted_share(resources, mounter, profile, 1)
    payload = secrets.token_hex(64)
    expect(mounter.write(f"{mnt}/probe", payload).ok, "writing through a rw rule failed")
    expect(mounter.read(f"{mnt}/probe") == payload, "the data read back differs from what was written")
    mounter.unmount(mnt)


@check("150cc5b3-b67c-45fc-92a1-06e426684abc", "access_ro")
def test_ro_rule_refuses_writes(resources, mounter, profile):
    """With a ro rule the client can mount and read, but a write fails."""
    share, rule, key, mnt = _mounted_share(resources, mounter, profile, 2, "ro")
    expect(mounter.client.run(f"ls {mnt}").ok, "a ro rule did not allow reading the share")
    expect(not mounter.write(f"{mnt}/forbidden", "x").ok, "a ro rule allowed a write")
    mounter.unmount(mnt)


@check("81871020-f320-46b1-849c-46cc2cc45070", "share")
def test_revoked_rule_refuses_new_access(resources, mounter, profile):
    """After the rule is deleted, a new mount with the same identity is refused."""
    share, rule, key, mnt = _mounted_share(resources, mounter, profile, 3)
    mounter.unmount(mnt)
    resources.revoke(share, rule)
    try:
        again = mounter.mount(share, rule, key)
    except MountRefused:
        return
    denied = not mounter.write(f"{again}/after-deny", "x").ok
    mounter.unmount(again)
    expect(denied, "after update_access deleted the rule, the client could still mount and write")


@check("8e0bb73c-7f47-4b9a-9a7b-69af16f31b8b", "share")
def test_tenants_cannot_see_each_others_data(resources, mounter, profile):
    """Two shares with their own rules: one tenant's identity cannot mount the other's share,
    and data written to one share does not appear in the other."""
    proto, kind = _proto_and_type(profile)
    first, second = resources.create_share(proto), resources.create_share(proto)
    rule_a, key_a = _grant(resources, first, kind, 4)
    rule_b, key_b = _grant(resources, second, kind, 5)
    mnt_a = _mount(mounter, first, rule_a, key_a)
    expect(mounter.write(f"{mnt_a}/tenant-a", "secret of tenant a").ok, "write to the first share failed")
    crossed = None
    try:
        crossed = mounter.mount(second, rule_a, key_a)
    except MountRefused:
        pass
    if crossed is not None:
        wrote = mounter.write(f"{crossed}/intruder", "x").ok
        mounter.unmount(crossed)
        expect(not wrote, "tenant A's identity could mount and write tenant B's share")
    mnt_b = _mount(mounter, second, rule_b, key_b)
    expect(mounter.read(f"{mnt_b}/tenant-a") is None, "tenant A's file is visible in tenant B's share")
    mounter.unmount(mnt_b)
    mounter.unmount(mnt_a)


@check("ecb3f9ef-b4c0-4457-af21-bc5d2e224b67", "extend")
def test_extend_is_visible_to_the_client(resources, mounter, profile):
    """After extend_share, the client sees the larger size."""
    size = profile.share_size_gb
    share, rule, key, mnt = _mounted_share(resources, mounter, profile, 6, size=size)
    before = mounter.size_bytes(mnt)
    mounter.unmount(mnt)
    resources.driver.extend_share(share, size + 1, share_server=resources.share_server)
    share["size"] = size + 1
    mnt = _mount(mounter, share, rule, key)
    after = mounter.size_bytes(mnt)
    mounter.unmount(mnt)
    expect(after >= before + GIB * 0.9, f"the client sees {after} bytes after extending from "
                                        f"{size} to {size + 1} GiB (before: {before})")


@check("cd260237-cfd0-4489-acfa-f2840a9ec6da", "shrink")
def test_shrink_below_used_data_is_refused(resources, mounter, profile):
    """Shrinking below the data in the share raises ShareShrinkingPossibleDataLoss, and the
    data is still there."""
    from manila import exception

    size = profile.share_size_gb + 1
    share, rule, key, mnt = _mounted_share(resources, mounter, profile, 7, size=size)
    used_mib = (size - 1) * 1024 + 128
    expect(mounter.fill(mnt, used_mib).ok, f"could not write {used_mib} MiB into a {size} GiB share")
    error = expect_manila_exception(
        lambda: resources.driver.shrink_share(share, size - 1, share_server=resources.share_server),
        f"shrink_share to {size - 1} GiB with {used_mib} MiB in use")
    expect(isinstance(error, exception.ShareShrinkingPossibleDataLoss),
           f"shrink below used data raised {type(error).__name__}; the share manager expects "
           "ShareShrinkingPossibleDataLoss to keep the share available")
    expect(mounter.client.run(f"test -s {mnt}/fill").ok, "the data is gone after the refused shrink")
    mounter.unmount(mnt)


@check("d8fef919-ca16-45c1-ba93-f230140217b4", "revert_to_snapshot")
def test_revert_restores_snapshot_data(resources, mounter, profile):
    """Data written after a snapshot is gone after revert_to_snapshot; the snapshot's data is back."""
    share, rule, key, mnt = _mounted_share(resources, mounter, profile, 8)
    mounter.write(f"{mnt}/state", "before")
    mounter.unmount(mnt)
    snapshot = resources.create_snapshot(share)
    mnt = _mount(mounter, share, rule, key)
    mounter.write(f"{mnt}/state", "after")
    mounter.unmount(mnt)
    result = resources.driver.revert_to_snapshot(resources.context, snapshot, [rule], [],
                                                 share_server=resources.share_server)
    if isinstance(result, dict):
        resources.wait_for_status(share, "available")
    mnt = _mount(mounter, share, rule, key)
    content = mounter.read(f"{mnt}/state")
    mounter.unmount(mnt)
    expect(content == "before", f"after revert the file holds {content!r}; the snapshot had 'before'")


@check("2a2a6ec9-ff91-462f-bfe9-9388a4c964c4", "create_from_snapshot")
def test_share_from_snapshot_holds_the_snapshot_data(resources, mounter, profile):
    """A share created from a snapshot holds the data the snapshot had."""
    share, rule, key, mnt = _mounted_share(resources, mounter, profile, 9)
    payload = secrets.token_hex(32)
    mounter.write(f"{mnt}/origin", payload)
    mounter.unmount(mnt)
    snapshot = resources.create_snapshot(share)
    child = resources.create_share_from_snapshot(snapshot)
    child_rule, child_key = _grant(resources, child, rule["access_type"], 10)
    mnt = _mount(mounter, child, child_rule, child_key)
    content = mounter.read(f"{mnt}/origin")
    mounter.unmount(mnt)
    expect(content == payload, "the share created from the snapshot does not hold the snapshot's data")
