"""Replication for each claimed replication type, and replicated snapshots."""

from __future__ import annotations

from certkit.contract.checks import check, expect
from certkit.contract.replicas import Replicas

KINDS = ("writable", "readable", "dr")


def pytest_generate_tests(metafunc):
    if "replication_kind" in metafunc.fixturenames:
        metafunc.parametrize("replication_kind", KINDS)


@check("f3cf2fc9-560e-472a-baf6-2fb996c53b4b", "replication_{replication_kind}")
def test_replica_lifecycle(resources, profile, replication_kind):
    """create_replica → update_replica_state reaches in_sync → promote_replica swaps roles (one
    active) → delete_replica of the demoted replica. Readable replicas get their rules as ro.
    Each replication type is a variant; the ones the profile does not claim are skipped."""
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
    replicas.wait_in_sync([active, replica], replica, [rule])
    result = replicas.promote([active, replica], replica, [rule])
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
    pair = [active, replica]
    snaps = replicas.snapshot_models(pair)
    created = replicas.create_snapshot(pair, snaps)
    ids = {s["id"] for s in snaps}
    expect({u["id"] for u in created or []} <= ids,
           "create_replicated_snapshot returned updates for unknown snapshot instances")
    replicas.update_snapshot(pair, replica, snaps, snaps[1])
    replicas.delete_snapshot(pair, snaps)
