"""Small purpose-built driver classes, one audit finding each."""

from __future__ import annotations

from certkit.manila_env import prepare_manila

prepare_manila()

from manila.share import driver  # noqa: E402


class DriftedSignature(driver.ShareDriver):
    """Drops share_server, renames context, requires an extra parameter."""

    def __init__(self, *args, **kwargs):
        super().__init__(False, *args, **kwargs)

    def create_share(self, context, share):
        return []

    def delete_share(self, ctx, share, share_server=None):
        pass

    def extend_share(self, share, new_size, force, share_server=None):
        pass


class LegacyAccess(driver.ShareDriver):
    """Pre-update_access interfaces: allow/deny_access and ensure_share."""

    def __init__(self, *args, **kwargs):
        super().__init__([False, True], *args, **kwargs)

    def create_share(self, context, share, share_server=None):
        return []

    def delete_share(self, context, share, share_server=None):
        pass

    def allow_access(self, context, share, access, share_server=None):
        pass

    def deny_access(self, context, share, access, share_server=None):
        pass

    def ensure_share(self, context, share, share_server=None):
        pass


class VendorBase(driver.ShareDriver):
    """A vendor's base class: snapshots live here."""

    def create_snapshot(self, context, snapshot, share_server=None):
        return None

    def delete_snapshot(self, context, snapshot, share_server=None):
        pass


class VendorDriver(VendorBase):
    """Inherits snapshots from its vendor base (counted through the MRO)."""

    def __init__(self, *args, **kwargs):
        super().__init__(False, *args, **kwargs)

    def create_share(self, context, share, share_server=None):
        return []

    def delete_share(self, context, share, share_server=None):
        pass

    def _update_share_stats(self, data=None):
        data = {"storage_protocol": "NFS", "revert_to_snapshot_support": True,
                "snapshot_support": True}
        super()._update_share_stats(data)
