"""A DummyDriver broken in ways only the live tier sees (each caught by one live check):
- its stats say security_service_update_support False, while the profile claims security
  service updates (the claimed capability is not schedulable; the default share type does not
  ask for it, so other checks still get shares);
- promote_replica returns only the promoted replica's new state, as if the manager would demote
  the old active replica by itself: it keeps what it is told, so the share has two active
  replicas (the in-process check sees one consistent list and passes);
- update_access raises for every rule of an access type the profile lists for the share's
  protocol (valid rules end in `error` through the share manager), and silently "grants" every
  other type (a rule it cannot apply ends `active`);
- create_share returns no export location (the share is available, the API lists no path);
- after a restart, ensure_shares reports every share in `error` (get_backend_info changes on
  every start, so the manager really calls ensure_shares).
"""

from __future__ import annotations

import uuid

from manila import exception
from manila.tests.share.drivers.dummy import DummyDriver


class BrokenLiveDriver(DummyDriver):
    """See the module docstring."""

    _boot = str(uuid.uuid4())

    def _update_share_stats(self, data=None):
        super()._update_share_stats(data)
        self._stats["security_service_update_support"] = False

    def promote_replica(self, context, replica_list, replica, access_rules, share_server=None,
                        quiesce_wait_time=None):
        return [{"id": replica["id"], "replica_state": "active"}]

    LISTED = {("NFS", "ip"), ("CIFS", "user")}
    """tests/live/broken-live.yaml's access types per protocol."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules,
                      update_rules, share_server=None):
        proto = share["share_proto"].upper()
        if any((proto, rule["access_type"]) in self.LISTED for rule in add_rules):
            raise exception.ShareBackendException(msg="certkit broken driver: refusing valid rules")
        return None  # every other rule "applied"

    def create_share(self, context, share, share_server=None):
        super().create_share(context, share, share_server)
        return []

    def get_backend_info(self, context):
        return {"boot": self._boot}

    def ensure_shares(self, context, shares):
        return {share["id"]: {"status": "error"} for share in shares}
