"""Manage and unmanage: the back-end object outlives unmanage and is found again by manage."""

from __future__ import annotations

from certkit.contract.checks import check
from certkit.contract.manage import Manage


@check("443d17f4-f0cc-4a25-aa8c-d4976228ab54", "manage_share")
def test_unmanage_then_manage_share(resources, dut, proto):
    """unmanage leaves the share on the back end; manage_existing of its export location returns
    an int size >= 1 and valid export locations."""
    manage = Manage(resources, with_server=dut.dhss)
    share = resources.create_share(proto)
    manage.unmanage_share(share)
    managed, _ = manage.manage_share(share)
    resources.delete_share(managed)


@check("16ec10a0-ebf3-4fba-b83e-2d8b562f2eba", "manage_snapshot")
def test_unmanage_then_manage_snapshot(resources, dut, profile):
    """unmanage_snapshot leaves the snapshot; manage_existing_snapshot of its provider location
    returns a valid model update."""
    manage = Manage(resources, with_server=dut.dhss)
    share = resources.create_share(profile.protocols[0])
    snapshot = resources.create_snapshot(share)
    manage.unmanage_snapshot(snapshot)
    managed, _ = manage.manage_snapshot(share, snapshot)
    resources.delete_snapshot(managed)
