"""Broken CephFS drivers that only the data path catches (the contract checks pass them)."""

from __future__ import annotations

import base64
import os
import struct
import time

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


def _unknown_cephx_key() -> str:
    """A well-formed cephx secret (type AES, creation time, 16 bytes) that Ceph never issued."""
    return base64.b64encode(struct.pack("<HIIH", 1, int(time.time()), 0, 16)
                            + os.urandom(16)).decode()


class KeysWithoutAuthorization(CephFSDriver):
    """Reports every new cephx rule applied, with a well-formed access key, and never authorises
    the identity on the back end: the rule is `active` in the API, and no client can mount."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        updates = {r["access_id"]: {"access_key": _unknown_cephx_key()}
                   for r in add_rules if r["access_type"] == "cephx"}
        others = [r for r in add_rules if r["access_type"] != "cephx"]
        if updates and not (others or delete_rules):
            return updates  # (empty add and delete lists would mean "apply the full list")
        result = super().update_access(context, share, access_rules, others, delete_rules,
                                       update_rules, share_server=share_server)
        return {**(result or {}), **updates}


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


class RoAppliedReadWriteInManila(CephFSDriver):
    """Applies ro rules as read-write, on the rule objects manila-share passes (database rows,
    which GrantsEverythingReadWrite's copies cannot be made from)."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        def rw(rules):
            return [{**{k: r[k] for k in ("access_id", "access_type", "access_to")},
                     "access_level": "rw"} for r in rules]

        return super().update_access(context, share, rw(access_rules), rw(add_rules), delete_rules,
                                     update_rules, share_server=share_server)


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


# -- several objects: the driver must pick the right one ----------------------------------------
class LevelFromFirstRule(CephFSDriver):
    """Applies every new rule at the level of the share's first rule (one level per share)."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        level = access_rules[0]["access_level"] if access_rules else None
        if level and add_rules:
            add_rules = _with_level(add_rules, level)
        return super().update_access(context, share, access_rules, add_rules, delete_rules,
                                     update_rules, share_server=share_server)


class DenyRevokesEveryone(CephFSDriver):
    """Deleting one rule deauthorizes every identity on the share."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        if delete_rules:
            delete_rules = [*delete_rules, *access_rules]
        return super().update_access(context, share, access_rules, add_rules, delete_rules,
                                     update_rules, share_server=share_server)


class ExtendsNewestShare(CephFSDriver):
    """Extends the share it created last instead of the one it was asked to extend."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.newest = None

    def create_share(self, context, share, share_server=None):
        self.newest = share
        return super().create_share(context, share, share_server=share_server)

    def extend_share(self, share, new_size, share_server=None):
        return super().extend_share(self.newest or share, new_size, share_server=share_server)


class CloneFromLatestSnapshot(CephFSDriver):
    """Creates a share from the parent's latest snapshot, whichever snapshot was asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.latest: dict = {}

    def create_snapshot(self, context, snapshot, share_server=None):
        self.latest[snapshot["share_instance_id"]] = snapshot
        return super().create_snapshot(context, snapshot, share_server=share_server)

    def create_share_from_snapshot(self, context, share, snapshot, share_server=None,
                                   parent_share=None):
        newest = self.latest.get(snapshot["share_instance_id"], snapshot)
        return super().create_share_from_snapshot(context, share, newest, share_server=share_server,
                                                  parent_share=parent_share)


# -- each way the share manager calls update_access -------------------------------------------
class BatchAppliesOnlyFirst(CephFSDriver):
    """Of several rules added in one call, applies only the first."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        return super().update_access(context, share, access_rules, add_rules[:1], delete_rules,
                                     update_rules, share_server=share_server)


class BatchDeletesOnlyFirst(CephFSDriver):
    """Of several rules deleted in one call, deauthorizes only the first."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        return super().update_access(context, share, access_rules, add_rules, delete_rules[:1],
                                     update_rules, share_server=share_server)


class FullListModeIsNoop(CephFSDriver):
    """Treats a call with empty add and delete lists as 'nothing to do'."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        if not add_rules and not delete_rules:
            return {}
        return super().update_access(context, share, access_rules, add_rules, delete_rules,
                                     update_rules, share_server=share_server)


# -- time: a second change, a restart ---------------------------------------------------------
class ExtendByOne(CephFSDriver):
    """Grows the share by 1 GiB whatever new size was asked for."""

    def extend_share(self, share, new_size, share_server=None):
        return super().extend_share(share, share["size"] + 1, share_server=share_server)


class ShrinkUndone(CephFSDriver):
    """Refuses a shrink below used data correctly, but puts an allowed shrink back at once."""

    def shrink_share(self, share, new_size, share_server=None):
        super().shrink_share(share, new_size, share_server=share_server)
        self.extend_share(share, share["size"], share_server=share_server)


class DenyForgetsAfterRestart(CephFSDriver):
    """Deletes only rules this instance applied itself (state kept in memory, lost on restart)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.applied: set = set()

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        self.applied.update((share["id"], r["access_to"]) for r in add_rules)
        known = [r for r in delete_rules if (share["id"], r["access_to"]) in self.applied]
        if delete_rules and not known and not add_rules:
            return {}  # "none of these is mine": nothing to deauthorize
        delete_rules = known
        return super().update_access(context, share, access_rules, add_rules, delete_rules,
                                     update_rules, share_server=share_server)
