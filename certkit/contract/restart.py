"""Restart: a second driver instance over the first one's private storage (what the share
manager builds after a service restart), and what it answers about the first one's shares
(get_backend_info, ensure_shares or the older ensure_share), schema-checked."""

from __future__ import annotations

from typing import Any, Callable

from certkit.contract.checks import expect_schema
from certkit.contract.resources import Resources
from certkit.harness.models import Model


class Restart:
    """The driver under test and a restarted instance of it."""

    def __init__(self, res: Resources, new_driver: Callable[..., Any], dut: Any) -> None:
        """`new_driver(dhss, private_storage=)` builds an un-set-up instance (the run's
        `new_driver`); `dut` is the running instance whose storage the new one inherits."""
        self.res = res
        self.new_driver = new_driver
        self.dut = dut

    def second_instance(self) -> Any:
        """A new instance over the same private storage, set up as the manager does."""
        second = self.new_driver(self.dut.dhss, private_storage=self.dut.private_storage)
        second.driver.do_setup(self.res.context)
        return second.driver

    def backend_info(self, driver: Any) -> dict[str, Any] | None:
        """get_backend_info, or None when the driver does not implement it."""
        try:
            info = driver.get_backend_info(self.res.context)
        except NotImplementedError:
            return None
        expect_schema(info, "backend_info.schema.json", "get_backend_info()")
        return info

    def ensure_existing(self, driver: Any, shares: list[Model]) -> dict[str, Any] | None:
        """ensure_shares over the shares as the manager passes them after a restart (status
        'ensuring'); for drivers without it, ensure_share per share. The updates (None for the
        older interface)."""
        res = self.res
        views = [{**s.to_dict(), "status": "ensuring"} for s in shares]
        try:
            result = driver.ensure_shares(res.context, views)
        except NotImplementedError:
            for view in views:
                locations = driver.ensure_share(res.context, view, share_server=res.share_server)
                if locations is not None:
                    expect_schema(locations, "export_locations.schema.json", "ensure_share()")
            return None
        expect_schema(result, "ensure_shares.schema.json", "ensure_shares()")
        return result
