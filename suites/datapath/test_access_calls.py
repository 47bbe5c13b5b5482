"""update_access the ways the share manager calls it (manila/share/access.py and manager.py),
seen from the client: several rules queued together, the full-list mode with empty deltas, and
a second driver instance after a restart."""

from __future__ import annotations

from certkit.contract.checks import check, expect

from .helpers import (expect_access, expect_no_access, grant, key_of, new_rule, payload,
                      proto_and_type, read_via, write_via)


@check("09e203ee-b131-4495-a4dc-3c093f55bdf8", "share")
def test_rules_added_and_deleted_together(resources, mounter, profile):
    """Three rules added in one call each allow access with their own key; two of them deleted
    in one call lose access, the third keeps it (the manager batches rules queued together)."""
    proto, kind = proto_and_type(profile)
    share = resources.create_share(proto)
    rules = [new_rule(resources, share, kind, n) for n in (21, 22, 23)]
    result = resources.grant_all(share, rules)
    keys = [key_of(result, rule) for rule in rules]
    for rule, key in zip(rules, keys):
        expect_access(mounter, share, rule, key, f"rule {rule['access_to']} added with two others")
    resources.revoke_all(share, rules[:2], remaining=rules[2:])
    for rule, key in zip(rules[:2], keys[:2]):
        expect_no_access(mounter, share, rule, key, "after two rules were deleted in one call")
    expect_access(mounter, share, rules[2], keys[2], "the rule left after two were deleted together")


@check("c71683a1-7957-4481-841b-9fee8e0a5c6a", "share")
def test_full_list_mode_matches_the_back_end_to_the_list(resources, mounter, profile):
    """With empty add and delete lists the driver makes the back end match access_rules: a
    listed rule it never saw gets access (with its key in the result), a rule missing from the
    list loses it, and a listed rule keeps it."""
    proto, kind = proto_and_type(profile)
    share = resources.create_share(proto)
    kept, kept_key = grant(resources, share, kind, 24)
    dropped, dropped_key = grant(resources, share, kind, 25, existing=[kept])
    expect_access(mounter, share, dropped, dropped_key, "before the full-list update")
    listed = new_rule(resources, share, kind, 26)
    result = resources.sync_access(share, [kept, listed])
    expect_access(mounter, share, listed, key_of(result, listed),
                  "a rule present only in the full list given with empty deltas")
    expect_no_access(mounter, share, dropped, dropped_key,
                     "a rule left out of the full list given with empty deltas")
    expect_access(mounter, share, kept, key_of(result, kept) or kept_key,
                  "a rule kept in the full list given with empty deltas")


@check("a48f5cc4-f5b3-410f-85d2-7a8fa6f8d746", "share")
def test_access_and_data_hold_across_a_restart(resources, mounter, profile, certkit_run, dut, context):
    """A second driver instance over the same back end and private storage (a restart): after
    ensure_shares (and the rule re-apply it may ask for), the data and the rules still work, and
    a rule deleted through the new instance loses access while the other keeps it."""
    proto, kind = proto_and_type(profile)
    share = resources.create_share(proto)
    kept, kept_key = grant(resources, share, kind, 27)
    dropped, dropped_key = grant(resources, share, kind, 28, existing=[kept])
    data = payload("before-restart")
    write_via(mounter, share, kept, kept_key, "durable", data, "before the restart")
    second = certkit_run.new_driver(dut.dhss, private_storage=dut.private_storage)
    second.driver.do_setup(context)
    restarted = resources.on_driver(second.driver)
    view = {**share.to_dict(), "status": "ensuring"}
    try:
        updates = second.driver.ensure_shares(context, [view]) or {}
    except NotImplementedError:
        second.driver.ensure_share(context, view, share_server=resources.share_server)
        updates = {}
    update = updates.get(share["id"]) or {}
    expect(update.get("status") != "error", "ensure_shares put the share in error after a restart")
    if update.get("reapply_access_rules"):  # the manager re-queues every rule and re-applies them
        result = restarted.grant_all(share, [kept, dropped])
        kept_key = key_of(result, kept) or kept_key
        dropped_key = key_of(result, dropped) or dropped_key
    seen = read_via(mounter, share, kept, kept_key, "durable")
    expect(seen == data, f"after a restart the share's file reads {seen!r:.60}, not {data!r:.60}")
    restarted.revoke(share, dropped, remaining=[kept])
    expect_no_access(mounter, share, dropped, dropped_key,
                     "a rule deleted through the driver instance started after a restart")
    expect_access(mounter, share, kept, kept_key, "the other rule after a restart and a delete")
