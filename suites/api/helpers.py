"""What the live checks share: client identities, shares and rules through the API."""

from __future__ import annotations

import secrets


def access_to(kind: str, n: int) -> str:
    """A fresh identity of an access type (`n` tells the rules of one check apart)."""
    tag = secrets.token_hex(3)
    return {"ip": f"10.{n % 250}.{int(tag[:2], 16)}.{int(tag[2:4], 16) or 1}",
            "user": f"certkit{tag}{n}", "cephx": f"certkit-{tag}-{n}",
            "cert": f"certkit{tag}{n}.example.com"}.get(kind, f"certkit{tag}{n}")


def new_share(api, profile, proto=None, share_type=None, share_network=None):
    """A share of the profile's size, available (on `share_network`, else the client's)."""
    share = api.create_share(proto or profile.protocols[0], profile.share_size_gb, share_type,
                             name=f"certkit-{secrets.token_hex(4)}", share_network=share_network)
    return api.wait_share(share["id"])


def rules_settle(api, share_id, count):
    """The share's `count` rules once each is active or error."""
    return api.wait_for(f"access rules of share {share_id} -> active or error",
                        lambda: api.access_rules(share_id),
                        lambda rules: len(rules) == count and all(r["state"] in ("active", "error")
                                                                  for r in rules))
