"""Manage and unmanage: the back-end object outlives unmanage and is found again by manage."""

from __future__ import annotations

from certkit.contract.checks import check, expect, expect_schema


def _in_mode(dut, resources, name: str, *args):
    """Call `name` in DHSS=False mode, `name_with_server` (share_server=) in DHSS=True mode."""
    if dut.dhss:
        return getattr(resources.driver, f"{name}_with_server")(*args, share_server=resources.share_server)
    return getattr(resources.driver, name)(*args)


@check("443d17f4-f0cc-4a25-aa8c-d4976228ab54", "manage_share")
def test_unmanage_then_manage_share(resources, dut, proto):
    """unmanage leaves the share on the back end; manage_existing of its export location returns
    an int size >= 1 and valid export locations."""
    share = resources.create_share(proto)
    server = resources.share_server
    _in_mode(dut, resources, "unmanage", share)
    resources.release(share["id"])
    managed = resources.models.share(proto, share["size"], share_server=server,
                                     export_location=share["export_location"],
                                     export_locations=list(share["export_locations"]))
    resources.track_share(managed)
    result = _in_mode(dut, resources, "manage_existing", managed, {})
    expect_schema(result, "manage_share.schema.json", "manage_existing()")
    resources.delete_share(managed)


@check("16ec10a0-ebf3-4fba-b83e-2d8b562f2eba", "manage_snapshot")
def test_unmanage_then_manage_snapshot(resources, dut, profile):
    """unmanage_snapshot leaves the snapshot; manage_existing_snapshot of its provider location
    returns a valid model update."""
    share = resources.create_share(profile.protocols[0])
    snapshot = resources.create_snapshot(share)
    driver, server = resources.driver, resources.share_server
    _in_mode(dut, resources, "unmanage_snapshot", snapshot)
    resources.release(snapshot["id"])
    managed = resources.models.snapshot(share, provider_location=snapshot["provider_location"])
    entry = resources.ledger.track("snapshot", managed["id"], managed["name"],
                                   lambda: driver.delete_snapshot(resources.context, managed,
                                                                  share_server=server))
    resources.entries.append(entry)
    result = _in_mode(dut, resources, "manage_existing_snapshot", managed, {})
    expect_schema(result, "manage_snapshot.schema.json", "manage_existing_snapshot()")
    expect(isinstance(result, dict), "manage_existing_snapshot must return a dict")
    resources.delete_snapshot(managed)
