"""Extend and shrink."""

from __future__ import annotations

from certkit.contract.checks import check


@check("c8f194e8-b5a4-408e-a9f8-48a9a19d860e", "extend")
def test_extend_share(resources, profile):
    """extend_share(share, new_size) (no context, as the manager calls it) succeeds."""
    size = profile.share_size_gb
    share = resources.create_share(profile.protocols[0], size)
    resources.extend_share(share, size + 1)
    resources.delete_share(share)


@check("247a91a2-188f-4b24-aa02-6e39211317c9", "shrink")
def test_shrink_share(resources, profile):
    """shrink_share(share, new_size) of an empty share succeeds."""
    size = profile.share_size_gb
    share = resources.create_share(profile.protocols[0], size + 1)
    resources.shrink_share(share, size)
    resources.delete_share(share)
