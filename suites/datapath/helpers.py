"""What the data-path checks share: rules for the client's identities, mounts that must work or
must be refused, and writes and reads that are verified (a check never relies on an unverified
write)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from certkit.contract.checks import ContractViolation, expect
from certkit.datapath import MountRefused, Mounter

GIB = 1024 ** 3


def proto_and_type(profile) -> tuple[str, str]:
    """The first protocol and access type the profile claims."""
    for proto in profile.protocols:
        for kind in profile.access_types.get(proto, ()):
            return proto, kind
    pytest.skip("the profile claims no access type")


def new_rule(res, share, kind: str, n: int, level: str = "rw"):
    """A rule for the client identity number `n` (not yet applied)."""
    return res.models.access_rule(share, kind, res.access_to(kind, 100 + n), level)


def key_of(result: Any, rule) -> str | None:
    """The access key update_access returned for `rule`, if any."""
    return ((result or {}).get(rule["access_id"]) or {}).get("access_key")


def grant(res, share, kind: str, n: int, level: str = "rw", existing=()):
    """Add one rule: (rule, access key)."""
    rule = new_rule(res, share, kind, n, level)
    return rule, key_of(res.grant(share, rule, list(existing)), rule)


def mount(mounter: Mounter, share, rule, key) -> str:
    """Mount as `rule`'s identity; a refusal is a contract violation (the rule was granted)."""
    try:
        return mounter.mount(share, rule, key)
    except MountRefused as exc:
        raise ContractViolation(f"the granted {rule['access_level']} rule for "
                                f"{rule['access_to']} did not allow a mount: {exc}") from None


def mounted_share(res, mounter, profile, n: int, level: str = "rw", size: int | None = None):
    """A new share with a rule for the client, mounted: (share, rule, access key, mountpoint)."""
    proto, kind = proto_and_type(profile)
    share = res.create_share(proto, size)
    rule, key = grant(res, share, kind, n, level)
    return share, rule, key, mount(mounter, share, rule, key)


def put(mounter: Mounter, path: str, data: str, what: str) -> None:
    """Write `data` and read it back; both must work."""
    expect(mounter.write(path, data).ok, f"{what}: writing {path} failed")
    back = mounter.read(path)
    expect(back == data, f"{what}: {path} reads back {back!r:.60} right after writing {data!r:.60}")


def payload(tag: str) -> str:
    """Distinct content for each write (a stale read can never pass for a fresh one)."""
    return f"{tag}-{secrets.token_hex(16)}"


def read_via(mounter: Mounter, share, rule, key, path: str) -> str | None:
    """Mount, read one file (None when it cannot be read), unmount."""
    mnt = mount(mounter, share, rule, key)
    try:
        return mounter.read(f"{mnt}/{path}")
    finally:
        mounter.unmount(mnt)


def write_via(mounter: Mounter, share, rule, key, path: str, data: str, what: str) -> None:
    """Mount, write one file verified, unmount."""
    mnt = mount(mounter, share, rule, key)
    try:
        put(mounter, f"{mnt}/{path}", data, what)
    finally:
        mounter.unmount(mnt)


def can_access(mounter: Mounter, share, rule, key) -> bool:
    """Whether `rule`'s identity can still mount and write (what a revoked rule must not)."""
    try:
        mnt = mounter.mount(share, rule, key)
    except MountRefused:
        return False
    try:
        return mounter.write(f"{mnt}/probe-{secrets.token_hex(4)}", "x").ok
    finally:
        mounter.unmount(mnt)


def expect_access(mounter: Mounter, share, rule, key, what: str) -> None:
    """`rule`'s identity can mount, write and read back."""
    write_via(mounter, share, rule, key, f"check-{secrets.token_hex(4)}", payload("check"), what)


def expect_no_access(mounter: Mounter, share, rule, key, what: str) -> None:
    """`rule`'s identity can neither mount nor write."""
    expect(not can_access(mounter, share, rule, key),
           f"{what}: {rule['access_to']} could still mount and write")
