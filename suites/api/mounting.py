"""The data path of shares made through the API: the client's identity for an access type, rules
granted and denied through the API (keys read back from it), and the share as the mounter needs
it. Mounting, verified writes and reads come from the data-path suite's helpers."""

from __future__ import annotations

import pytest

from certkit.contract.checks import expect
from certkit.datapath import Mounter

from .helpers import access_to


def mountable(proto: str) -> None:
    """Skip unless certkit can mount this protocol from the client host."""
    if proto not in Mounter.SUPPORTED:
        pytest.skip(f"certkit has no {proto} mount helper yet: the data path cannot be checked")


def first_mountable(profile) -> tuple[str, str]:
    """The first (protocol, access type) of the profile certkit can mount."""
    for proto in profile.protocols:
        for kind in profile.access_types.get(proto, ()):
            if proto in Mounter.SUPPORTED:
                return proto, kind
    pytest.skip(f"certkit has no mount helper for {', '.join(profile.protocols)} yet")


def identity(mounter: Mounter, kind: str, n: int) -> str:
    """Who the rule names: the client host's address for ip, else a fresh identity."""
    if kind == "ip":
        return mounter.client.access_to or mounter.client.address
    return access_to(kind, n)


def granted(api, share_id: str, kind: str, to: str, level: str = "rw") -> tuple[dict, str | None]:
    """allow_access through the API, then the rule once `active` and the key the API returns
    for it (cephx; microversion >= 2.21)."""
    rule = api.grant(share_id, kind, to, level)

    def current():
        return next((r for r in api.access_rules(share_id) if r["id"] == rule["id"]), {"state": "gone"})

    final = api.wait_for(f"{kind} {level} rule for {to} on share {share_id} -> active",
                         current, lambda r: r["state"] in ("active", "error", "gone"))
    expect(final["state"] == "active", f"a {kind} {level} rule for {to} ended in {final['state']}")
    return final, api.access_key(share_id, rule["id"])


def denied(api, share_id: str, rule: dict) -> None:
    """deny_access through the API; returns when the rule is gone from the share's list."""
    api.deny(share_id, rule["id"])
    api.wait_for(f"rule {rule['id']} of share {share_id} -> deleted",
                 lambda: [r for r in api.access_rules(share_id) if r["id"] == rule["id"]],
                 lambda left: not left, lambda left: bool(left) and left[0]["state"] == "error")


def as_mounted(api, share: dict) -> dict:
    """The share with the export locations the API lists now (what the mounter reads)."""
    return {**share, "export_locations": api.export_locations(share["id"])}
