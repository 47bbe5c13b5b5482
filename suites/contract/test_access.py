"""update_access: add, delete, recovery mode, never-applied rules, read-only, unsupported types."""

from __future__ import annotations

from certkit.catalogue import ACCESS_TYPES
from certkit.contract.checks import check, expect, expect_manila_exception


def _state_ok(result, rule) -> None:
    update = (result or {}).get(rule["access_id"], {})
    expect(update.get("state") != "error",
           f"update_access reported state 'error' for a valid {rule['access_type']} rule "
           f"{rule['access_to']!r}")


@check("eeee0e6d-27a4-42e4-9c22-8f593cb54414", "access_{access_type}")
def test_add_and_delete_rule(resources, proto, access_type):
    """A rule is added (result matches access_update.schema.json) and deleted."""
    share = resources.create_share(proto)
    rule = resources.models.access_rule(share, access_type, resources.access_to(access_type))
    _state_ok(resources.grant(share, rule), rule)
    resources.revoke(share, rule)


@check("140de85e-1288-4bcc-a095-a6f344a9bf3f", "access_{access_type}")
def test_recovery_mode_sync(resources, proto, access_type):
    """Empty add/delete lists mean 'make the back end match access_rules' (recovery)."""
    share = resources.create_share(proto)
    rule = resources.models.access_rule(share, access_type, resources.access_to(access_type, 2))
    resources.grant(share, rule)
    _state_ok(resources.update_access(share, [rule]), rule)
    resources.update_access(share, [])
    resources.revoke(share, rule)


@check("c0546879-0cf4-4270-9835-46eb7fdcf7b9", "access_{access_type}")
def test_delete_never_applied_rule(resources, proto, access_type):
    """Deleting a rule the driver never applied must not raise (the manager retries denies)."""
    share = resources.create_share(proto)
    rule = resources.models.access_rule(share, access_type, resources.access_to(access_type, 3))
    resources.update_access(share, [], delete=[rule])


@check("a7eca795-4981-46a6-8354-308630bee14d", "access_ro")
def test_read_only_rule(resources, proto, access_type):
    """A read-only rule is applied and deleted."""
    share = resources.create_share(proto)
    rule = resources.models.access_rule(share, access_type, resources.access_to(access_type, 4),
                                        access_level="ro")
    _state_ok(resources.grant(share, rule), rule)
    resources.revoke(share, rule)


@check("6cb29ccc-4364-4ee2-a022-30b79a1280d7", "share")
def test_unsupported_access_type_is_refused(resources, profile, proto):
    """An access type the protocol does not support is refused: a manila.exception error, or
    the rule reported in state 'error' (both are handled by the share manager)."""
    supported = profile.access_types.get(proto, ())
    kind = next(t for t in ACCESS_TYPES if t not in supported)
    share = resources.create_share(proto)
    rule = resources.models.access_rule(share, kind, resources.access_to(kind, 5))
    expect_manila_exception(
        lambda: resources.grant(share, rule),
        f"update_access adding a {kind} rule to a {proto} share",
        refused=lambda result: (result or {}).get(rule["access_id"], {}).get("state") == "error")
