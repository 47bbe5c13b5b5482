"""Unmanage and manage shares and snapshots: `name` in DHSS=False mode, `name_with_server`
(share_server=) in DHSS=True mode, as the share manager picks them; managed objects are recorded
in the ledger before manage is called, and manage's answers are checked against their schemas."""

from __future__ import annotations

from typing import Any

from certkit.contract.checks import expect, expect_schema
from certkit.contract.resources import Resources
from certkit.harness.models import Model


class Manage:
    """Manage/unmanage through one driver instance, with or without share servers."""

    def __init__(self, res: Resources, with_server: bool) -> None:
        self.res = res
        self.with_server = with_server

    def _call(self, name: str, *args: Any) -> Any:
        driver = self.res.driver
        if self.with_server:
            return getattr(driver, f"{name}_with_server")(*args, share_server=self.res.share_server)
        return getattr(driver, name)(*args)

    def _what(self, name: str) -> str:
        return f"{name}_with_server()" if self.with_server else f"{name}()"

    def unmanage_share(self, share: Model) -> None:
        """unmanage(share): the share leaves Manila but stays on the back end."""
        self._call("unmanage", share)
        self.res.release(share["id"])

    def manage_share(self, unmanaged: Model) -> tuple[Model, Any]:
        """manage_existing of an unmanaged share's export locations → (the managed share, the
        model update: an int size >= 1 and valid export locations)."""
        res = self.res
        managed = res.models.share(unmanaged["share_proto"], unmanaged["size"],
                                   share_server=res.share_server,
                                   export_location=unmanaged["export_location"],
                                   export_locations=list(unmanaged["export_locations"]))
        res.track_share(managed)
        result = self._call("manage_existing", managed, {})
        expect_schema(result, "manage_share.schema.json", self._what("manage_existing"))
        return managed, result

    def unmanage_snapshot(self, snapshot: Model) -> None:
        """unmanage_snapshot: the snapshot stays on the back end."""
        self._call("unmanage_snapshot", snapshot)
        self.res.release(snapshot["id"])

    def manage_snapshot(self, share: Model, unmanaged: Model) -> tuple[Model, Any]:
        """manage_existing_snapshot of an unmanaged snapshot's provider location → (the managed
        snapshot, its model update, a dict)."""
        res = self.res
        managed = res.models.snapshot(share, provider_location=unmanaged["provider_location"])
        res.track_snapshot(managed)
        result = self._call("manage_existing_snapshot", managed, {})
        what = self._what("manage_existing_snapshot")
        expect_schema(result, "manage_snapshot.schema.json", what)
        expect(isinstance(result, dict), f"{what} must return a dict")
        return managed, result
