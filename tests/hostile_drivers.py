"""Drivers that attack the verdict rather than one check: they hang, crash pytest's reporting,
refuse every delete, report infinite capacity, or echo their configuration. Used by
tests/test_verdict.py, tests/test_cleanup.py and tests/test_run_command.py (some in subprocesses).
"""

from __future__ import annotations

import threading
import time

from certkit.manila_env import prepare_manila

prepare_manila()

from manila import exception  # noqa: E402
from manila.tests.share.drivers.dummy import DummyDriver  # noqa: E402

from tests.broken.lifecycle import JournalingDriver  # noqa: E402

RELEASE = threading.Event()
"""Set by the tests to let hung driver threads finish."""


class HangsForever(DummyDriver):
    """create_share never returns (until the test sets RELEASE)."""

    def create_share(self, context, share, share_server=None):
        RELEASE.wait(600)
        return super().create_share(context, share, share_server)


class UnprintableError(Exception):
    """An exception whose __str__ itself raises."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ exploded")


class RaisesUnprintable(DummyDriver):
    """create_share raises an exception that cannot be turned into text."""

    def create_share(self, context, share, share_server=None):
        raise UnprintableError()


class RefusesEveryDelete(DummyDriver):
    """Every delete_share is refused as 'busy' (a manila exception), forever."""

    attempts = 0

    def delete_share(self, context, share, share_server=None):
        type(self).attempts += 1
        raise exception.ShareBusyException(reason="busy, forever")


class InfiniteCapacity(DummyDriver):
    """Reports total_capacity_gb = inf (not JSON, and not a capacity the scheduler can weigh)."""

    def _get_pools_info(self):
        pools = super()._get_pools_info()
        pools[0]["total_capacity_gb"] = float("inf")
        return pools


class SlowDeleteJournaling(JournalingDriver):
    """Journals to $CERTKIT_TEST_JOURNAL; create_snapshot waits (to be interrupted), and every
    delete takes 60 s (so a second signal must stop the clean-up)."""

    def create_snapshot(self, context, snapshot, share_server=None):
        self._log(f"create_snapshot {snapshot['id']}")
        time.sleep(60)
        return super().create_snapshot(context, snapshot, share_server)

    def delete_share(self, context, share, share_server=None):
        self._log(f"delete_share {share['id']}")
        time.sleep(60)

    def delete_snapshot(self, context, snapshot, share_server=None):
        self._log(f"delete_snapshot {snapshot['id']}")
        time.sleep(60)


class EchoesPassword(DummyDriver):
    """Fails create_share with the password it was configured with, repr'd (as a careless
    driver's error message would): what reached the driver, and how it is redacted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from oslo_config import cfg

        # As SAN drivers do: the option is registered by the driver, read from its group.
        self.configuration.append_config_values([cfg.StrOpt("san_password", secret=True)])

    def create_share(self, context, share, share_server=None):
        password = self.configuration.safe_get("san_password")
        raise exception.ShareBackendException(msg=f"login refused for password={password!r} "
                                                  f"and {password}")
