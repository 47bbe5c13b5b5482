"""Replication for each claimed replication type, and replicated snapshots."""

from __future__ import annotations

import time

from certkit.contract.checks import ContractViolation, check, expect, expect_schema
from certkit.contract.replicas import Replicas
from certkit.contract.resources import accepts
from certkit.pytest_plugin import RUN_KEY

KINDS = ("writable", "readable", "dr")


def pytest_generate_tests(metafunc):
    if "replication_kind" in metafunc.fixturenames and RUN_KEY in metafunc.config.stash:
        profile = metafunc.config.stash[RUN_KEY].profile
        claimed = [k for k in KINDS if profile.claims(f"replication_{k}")]
        metafunc.parametrize("replication_kind", claimed or list(KINDS))


def _wait_in_sync(res, replica_list, replica, rules) -> None:
    deadline = time.monotonic() + res.poll_timeout
    while True:
        state = res.driver.update_replica_state(res.context, [dict(r) for r in replica_list],
                                                dict(replica), rules, [],
                                                share_server=res.share_server)
        expect_schema(state, "replica_state.schema.json", "update_replica_state()")
        if state == "in_sync" or (state is None and replica["replica_state"] == "in_sync"):
            return
        if state == "error":
            raise ContractViolation("update_replica_state reported 'error' for a healthy replica")
        if time.monotonic() > deadline:
            raise ContractViolation(f"replica still {state!r} after {res.poll_timeout:g} s")
        time.sleep(0.1)


@check("f3cf2fc9-560e-472a-baf6-2fb996c53b4b", "replication_{replication_kind}")
def test_replica_lifecycle(resources, profile, replication_kind):
    """create_replica → update_replica_state reaches in_sync → promote_replica swaps roles (one
    active) → delete_replica of the demoted replica. Readable replicas get their rules as ro."""
    res = resources
    proto = profile.protocols[0]
    active = res.create_share(proto)
    active["replica_state"] = "active"
    replicas = Replicas(res)
    replica = replicas.new_replica(active)
    kind = profile.access_types.get(proto, ("ip",))[0]
    level = "ro" if replication_kind == "readable" else "rw"
    rule = res.models.access_rule(replica, kind, res.access_to(kind, 8), level)
    replicas.create([active, replica], replica, access_rules=[rule])
    _wait_in_sync(res, [active, replica], replica, [rule])
    replica["replica_state"] = "in_sync"
    kwargs = {"share_server": res.share_server}
    if accepts("promote_replica", "quiesce_wait_time"):  # Manila >= Wallaby
        kwargs["quiesce_wait_time"] = None
    result = res.driver.promote_replica(res.context, [dict(active), dict(replica)], dict(replica),
                                        [rule], **kwargs)
    expect_schema(result, "promote_result.schema.json", "promote_replica()")
    if result:
        states = {u["id"]: u["replica_state"] for u in result}
        expect(states.get(replica["id"]) == "active",
               f"promote_replica did not make the promoted replica active: {states}")
        expect(list(states.values()).count("active") == 1,
               f"promote_replica left {list(states.values()).count('active')} active replicas")
        expect(set(states) <= {active["id"], replica["id"]},
               f"promote_replica returned updates for unknown replicas {sorted(states)}")
    active["replica_state"], replica["replica_state"] = "in_sync", "active"
    replicas.delete([replica, active], active)
    res.release(active["id"])
    res.delete_share(replica)


@check("4be2ee93-d3d8-42c4-8288-a4e51ae71500", "replicated_snapshot")
def test_replicated_snapshot_lifecycle(resources, profile):
    """create_replicated_snapshot / update_replicated_snapshot / delete_replicated_snapshot
    return updates for the snapshot instances they were given, with valid statuses."""
    res = resources
    active = res.create_share(profile.protocols[0])
    active["replica_state"] = "active"
    replicas = Replicas(res)
    replica = replicas.new_replica(active, "in_sync")
    replicas.create([active, replica], replica)
    snaps = [res.models.snapshot(r, snapshot_id=res.models.run_id + "-snap") for r in (active, replica)]
    for snap in snaps:
        snap["snapshot_id"] = snaps[0]["snapshot_id"]
    replica_list = [dict(active), dict(replica)]
    entry = res.ledger.track("replicated_snapshot", snaps[0]["id"], snaps[0]["name"],
                             lambda: res.driver.delete_replicated_snapshot(
                                 res.context, replica_list, [dict(s) for s in snaps],
                                 share_server=res.share_server))
    res.entries.append(entry)
    created = res.driver.create_replicated_snapshot(res.context, replica_list,
                                                    [dict(s) for s in snaps],
                                                    share_server=res.share_server)
    expect_schema(created, "replicated_snapshots.schema.json", "create_replicated_snapshot()")
    ids = {s["id"] for s in snaps}
    expect({u["id"] for u in created or []} <= ids,
           "create_replicated_snapshot returned updates for unknown snapshot instances")
    update = res.driver.update_replicated_snapshot(res.context, replica_list, dict(replica),
                                                   [dict(s) for s in snaps], dict(snaps[1]),
                                                   share_server=res.share_server)
    expect_schema(update, "replicated_snapshot_update.schema.json", "update_replicated_snapshot()")
    deleted = res.driver.delete_replicated_snapshot(res.context, replica_list,
                                                    [dict(s) for s in snaps],
                                                    share_server=res.share_server)
    expect_schema(deleted, "replicated_snapshots.schema.json", "delete_replicated_snapshot()")
    res.release(snaps[0]["id"])
