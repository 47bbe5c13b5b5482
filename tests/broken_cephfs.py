"""Broken CephFS drivers that only the data path catches (the contract checks pass them)."""

from __future__ import annotations

from certkit.manila_env import prepare_manila

prepare_manila()

from manila.share.drivers.cephfs.driver import CephFSDriver  # noqa: E402


class DenyDoesNotDeauthorize(CephFSDriver):
    """Reports deletes as done but never deauthorizes the cephx identity."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        if delete_rules:
            return {}
        return super().update_access(context, share, access_rules, add_rules, delete_rules,
                                     update_rules, share_server=share_server)


class RevertIsNoop(CephFSDriver):
    """Claims revert to snapshot and does nothing."""

    def revert_to_snapshot(self, context, snapshot, share_access_rules, snapshot_access_rules,
                           share_server=None):
        return None


class ExtendIgnored(CephFSDriver):
    """Accepts extend_share and leaves the quota as it was."""

    def extend_share(self, share, new_size, share_server=None):
        return None
