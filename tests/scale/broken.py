"""DummyDriver variants whose cost grows with N (or that fail at scale): the scale suite must
flag each, with its numbers, while the unmodified DummyDriver passes the same checks."""

from __future__ import annotations

import os
import threading
import time

from certkit.manila_env import prepare_manila

prepare_manila()

from manila import exception  # noqa: E402
from manila.tests.share.drivers.dummy import DummyDriver  # noqa: E402


def _spend(seconds: float) -> None:
    """Take `seconds` of wall time precisely (sleep here is coarse: milliseconds under load)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _shares(driver: DummyDriver) -> int:
    """Shares the back end holds (the dummy keeps one private-storage entity per object)."""
    return len(driver.private_storage._storage.entities())


class StatsWalkEveryShare(DummyDriver):
    """get_share_stats visits every share (100 us each): stats cost linear in N."""

    def get_share_stats(self, refresh=False):
        _spend(100e-6 * _shares(self))
        return super().get_share_stats(refresh)


class EnsureSharesQuadratic(DummyDriver):
    """A restart compares every share with every other one: ensure_shares quadratic in N."""

    def ensure_shares(self, context, shares):
        _spend(2e-5 * len(shares) ** 2)
        return {s["id"]: {"status": "available", "reapply_access_rules": False} for s in shares}


class AccessSlowWithLongRuleLists(DummyDriver):
    """update_access re-applies every rule on each call (500 us each)."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules,
                      update_rules, share_server=None):
        _spend(500e-6 * len(access_rules))
        return super().update_access(context, share, access_rules, add_rules, delete_rules,
                                     update_rules, share_server)


class CreateRefusedPastLimit(DummyDriver):
    """The back end holds at most 150 objects: creates past that fail (a limit, not a crash)."""

    LIMIT = 150

    def create_share(self, context, share, share_server=None):
        if _shares(self) >= self.LIMIT:
            raise exception.ShareBackendException(msg=f"volume limit of {self.LIMIT} reached")
        return super().create_share(context, share, share_server)


class Journaling(DummyDriver):
    """Appends `create <id>` once an object exists and `delete <id>` once it is gone, to the
    file named by $CERTKIT_TEST_JOURNAL (the Ctrl-C test reads it from outside the process)."""

    _lock = threading.Lock()
    _journal = None

    def _log(self, line: str) -> None:
        with self._lock:
            if Journaling._journal is None:
                Journaling._journal = open(os.environ["CERTKIT_TEST_JOURNAL"], "a", buffering=1,
                                           encoding="utf-8")
            Journaling._journal.write(line + "\n")

    def create_share(self, context, share, share_server=None):
        result = super().create_share(context, share, share_server)
        self._log(f"create {share['id']}")
        return result

    def delete_share(self, context, share, share_server=None):
        super().delete_share(context, share, share_server)
        self._log(f"delete {share['id']}")

    def create_snapshot(self, context, snapshot, share_server=None):
        result = super().create_snapshot(context, snapshot, share_server)
        self._log(f"create {snapshot['id']}")
        return result

    def delete_snapshot(self, context, snapshot, share_server=None):
        super().delete_snapshot(context, snapshot, share_server)
        self._log(f"delete {snapshot['id']}")
