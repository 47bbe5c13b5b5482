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


def _with_level(rules, level):
    return [type(rule)({**rule, "access_level": level}) for rule in rules]


class GrantsEverythingReadOnly(CephFSDriver):
    """Applies rw rules as read-only."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        return super().update_access(context, share, _with_level(access_rules, "ro"),
                                     _with_level(add_rules, "ro"), delete_rules, update_rules,
                                     share_server=share_server)


class GrantsEverythingReadWrite(CephFSDriver):
    """Applies ro rules as read-write."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        return super().update_access(context, share, _with_level(access_rules, "rw"),
                                     _with_level(add_rules, "rw"), delete_rules, update_rules,
                                     share_server=share_server)


class RulesLeakAcrossShares(CephFSDriver):
    """Authorizes a new rule's identity on every share it created, not just the rule's share."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.created: list = []

    def create_share(self, context, share, share_server=None):
        self.created.append(dict(share))
        return super().create_share(context, share, share_server=share_server)

    def delete_share(self, context, share, share_server=None):
        self.created = [s for s in self.created if s["id"] != share["id"]]
        return super().delete_share(context, share, share_server=share_server)

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        result = super().update_access(context, share, access_rules, add_rules, delete_rules,
                                       update_rules, share_server=share_server)
        for other in self.created:
            if other["id"] != share["id"] and add_rules:
                super().update_access(context, {**other, "metadata": {}}, add_rules, add_rules,
                                      [], [], share_server=share_server)
        return result


class ShrinkIgnoresUsedData(CephFSDriver):
    """Reports success for a shrink that would cut data (and leaves the quota as it was)."""

    def shrink_share(self, share, new_size, share_server=None):
        return None


class ShareFromSnapshotIsEmpty(CephFSDriver):
    """Creates an empty share instead of cloning the snapshot."""

    def create_share_from_snapshot(self, context, share, snapshot, share_server=None,
                                   parent_share=None):
        return {"status": "available",
                "export_locations": self.create_share(context, share, share_server=share_server)}
