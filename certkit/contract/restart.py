"""Restart: what a second driver instance over the same private storage answers about the first
one's shares (get_backend_info, ensure_shares or the older ensure_share), schema-checked."""

from __future__ import annotations

from typing import Any

from certkit.contract.checks import expect_schema
from certkit.contract.resources import Resources
from certkit.harness.models import Model


def backend_info(driver: Any, context: Any) -> dict[str, Any] | None:
    """get_backend_info, or None when the driver does not implement it."""
    try:
        info = driver.get_backend_info(context)
    except NotImplementedError:
        return None
    expect_schema(info, "backend_info.schema.json", "get_backend_info()")
    return info


def ensure_existing(res: Resources, driver: Any, shares: list[Model]) -> dict[str, Any] | None:
    """ensure_shares over the shares as the manager passes them after a restart (status
    'ensuring'); for drivers without it, ensure_share per share. The updates (None for the
    older interface)."""
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
