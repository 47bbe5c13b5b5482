"""A DummyDriver broken in three ways only the live tier sees (each caught by one live check):
- its stats drop replication_type, while the profile claims readable replication (the claimed
  capability is not schedulable; the default share type does not ask for it, so other checks
  still get shares);
- update_access raises for every rule added (rules end in `error` through the share manager);
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
        self._stats.pop("replication_type", None)
        for pool in self._stats.get("pools") or []:
            pool.pop("replication_type", None)

    def update_access(self, context, share, access_rules, add_rules, delete_rules,
                      update_rules, share_server=None):
        if add_rules:
            raise exception.ShareBackendException(msg="certkit broken driver: refusing every rule")
        return None

    def get_backend_info(self, context):
        return {"boot": self._boot}

    def ensure_shares(self, context, shares):
        return {share["id"]: {"status": "error"} for share in shares}
