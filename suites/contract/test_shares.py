"""Share lifecycle: create and delete for each claimed protocol."""

from __future__ import annotations

from certkit.contract.checks import check, expect_manila_exception
from certkit.contract.resources import tolerating_not_found

# Manila's SUPPORTED_SHARE_PROTOCOLS, read from the installed Manila when possible.
_FALLBACK_PROTOCOLS = ("NFS", "CIFS", "GLUSTERFS", "HDFS", "CEPHFS", "MAPRFS", "LUSTRE", "WEKAFS")


def _supported_protocols() -> tuple[str, ...]:
    from manila.common import constants

    return tuple(getattr(constants, "SUPPORTED_SHARE_PROTOCOLS", _FALLBACK_PROTOCOLS))


@check("7a7d25d1-5333-460c-8533-f83483bbd39d", "share")
def test_create_and_delete_share(resources, proto):
    """create_share returns export locations matching their schema; delete_share removes it."""
    share = resources.create_share(proto)
    resources.delete_share(share)


@check("519f50f6-79fd-4ece-b297-d83b63c91a01", "share")
def test_delete_share_twice_is_not_an_error(resources, proto):
    """Deleting an already deleted share succeeds (or raises ShareResourceNotFound)."""
    share = resources.create_share(proto)
    resources.delete_share(share)
    tolerating_not_found(lambda: resources.delete_share(share))()


@check("352e5ae8-7fa9-4178-be0d-2a3ef1fd85f4", "share")
def test_unsupported_protocol_is_refused_with_manila_exception(resources, profile):
    """create_share for a protocol the back end does not serve raises a manila.exception error."""
    unsupported = next(p for p in _supported_protocols() if p not in profile.protocols)
    expect_manila_exception(lambda: resources.try_create_share(unsupported),
                            f"create_share with share_proto={unsupported}")
