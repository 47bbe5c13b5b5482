"""certkit's own live checks: what only the real API, scheduler and share manager show.

Each check creates its objects through a tempest.lib client (responses validated against
schemas) and deletes them afterwards, also when it fails.
"""

from __future__ import annotations

import secrets

import pytest

from certkit.apitier.specs import claimed_capability_specs
from certkit.contract.checks import check, expect

from .helpers import access_to, new_share, rules_settle

REPLICATION_KINDS = ("readable", "writable", "dr")


def pytest_generate_tests(metafunc):
    if "replication_kind" in metafunc.fixturenames:
        metafunc.parametrize("replication_kind", REPLICATION_KINDS)


def _on_backend(api, share, target) -> bool:
    hosts = {p.split("#")[0] for p in api.pools(target.backend)}
    return (share.get("host") or "").split("#")[0] in hosts


@check("3480daa9-da54-479c-b4ac-790423eaa6df", "{capability}")
def test_claimed_capability_is_schedulable(api, profile, target, capability):
    """A share type asking for the back end and the claimed capability's extra spec gets a share."""
    spec = claimed_capability_specs(profile).get(capability)
    specs = {"driver_handles_share_servers": str(target.dhss), "share_backend_name": target.backend}
    if spec:
        specs[spec[0]] = spec[1]
    share_type = api.create_share_type(f"certkit-{capability}-{secrets.token_hex(4)}", specs)
    share = api.create_share(profile.protocols[0], profile.share_size_gb, share_type["id"])
    final = api.wait_for(f"share {share['id']} (type with {specs}) -> available",
                         lambda: api.show_share(share["id"]),
                         lambda s: s["status"] in ("available", "error"))
    expect(final["status"] == "available",
           f"a share type with extra spec {spec[0] if spec else '(none)'}={spec[1] if spec else ''} "
           f"could not be scheduled: share ended in {final['status']} (the back end's reported "
           "capabilities do not back the claim)")
    expect(_on_backend(api, final, target),
           f"the share landed on {final.get('host')!r}, not on back end {target.backend!r}")


@check("14a4ba22-b0b7-42ed-9890-f178e9affc44", "access_{access_type}")
def test_access_rules_reach_active(api, profile, proto, access_type, access_level):
    """One rule, then two more: every rule the driver accepts reaches `active` through the manager."""
    share = new_share(api, profile, proto)
    api.grant(share["id"], access_type, access_to(access_type, 1), access_level)
    rules = rules_settle(api, share["id"], 1)
    expect(all(r["state"] == "active" for r in rules),
           f"a valid {access_type} {access_level} rule ended in {rules[0]['state']} through the share "
           "manager (update_access refused it or returned an update the manager rejects)")
    for n in (2, 3):
        api.grant(share["id"], access_type, access_to(access_type, n), access_level)
    rules = rules_settle(api, share["id"], 3)
    bad = [f"{r['access_to']}={r['state']}" for r in rules if r["state"] != "active"]
    expect(not bad, f"after adding two {access_type} {access_level} rules: {', '.join(bad)}")
    expect(all(r["access_level"] == access_level for r in rules),
           f"rule levels changed: {[r['access_level'] for r in rules]} (granted {access_level})")
    final = api.show_share(share["id"])
    expect(final["status"] == "available", f"share status after the rules: {final['status']}")


@check("85da2b43-2cfe-4465-8e07-876607407dd4", "share")
def test_export_locations_and_snapshots_survive_the_manager(api, profile):
    """Export locations reach the API; a snapshot becomes available; an extend keeps the exports."""
    share = new_share(api, profile)
    locations = api.export_locations(share["id"])
    expect(bool(locations), "the share is available but the API lists no export location "
                            "(the manager dropped what create_share returned)")
    if profile.claims("snapshot"):
        snap = api.create_snapshot(share["id"])
        snap = api.wait_snapshot(snap["id"])
        expect(snap["size"] == share["size"], f"snapshot size {snap['size']} != share size {share['size']}")
    if profile.claims("extend"):
        grown = api.extend_and_wait(share["id"], share["size"] + 1)
        after = api.export_locations(grown["id"])
        expect({loc["path"] for loc in after} == {loc["path"] for loc in locations},
               f"extend changed the export locations: {[loc['path'] for loc in locations]} -> "
               f"{[loc['path'] for loc in after]}")


@check("514abfb9-c1f4-4f5b-89ce-1586ad1cd950", "share")
def test_another_projects_user_cannot_see_the_export_locations(api, profile, target):
    """A member of another project can neither list nor show a private share's export
    locations (Manila answers 403 or 404: its API reference lists both, and since its RBAC
    work it hides what a caller may not see as 404), while the owner sees them. Supersedes the
    two plugin tests that accept only 403 (suites/api/superseded.yaml)."""
    from tempest.lib import exceptions as lib_exc

    from certkit.apitier.client import ManilaClient
    from certkit.apitier.tenant import other_project_user

    share = new_share(api, profile)
    expect(not share.get("is_public"), "a share created without is_public came out public")
    locations = api.export_locations(share["id"])
    expect(bool(locations), "the owner sees no export location of its available share")
    with other_project_user(target) as other_target:
        other = ManilaClient(other_target)
        calls = [("list", lambda: other.export_locations(share["id"]))]
        calls += [(f"show {loc['id']}", lambda loc=loc: other.export_location(share["id"], loc["id"]))
                  for loc in locations]
        for what, call in calls:
            try:
                seen = call()
            except (lib_exc.Forbidden, lib_exc.NotFound):
                continue
            expect(False, f"a member of another project could {what} the export locations of a "
                          f"private share ({len(seen) if isinstance(seen, list) else 1} answered)")


def _restartable(target):
    if not target.can_restart:
        pytest.skip(f"restarts need services certkit runs (`certkit lab up manila`); "
                    f"{target.origin}'s are not ours to restart")


def _shares_with_rules(api, profile, count):
    proto = profile.protocols[0]
    kinds = profile.access_types.get(proto) or ()
    out = []
    for n in range(count):
        share = new_share(api, profile, proto)
        if kinds:
            api.grant(share["id"], kinds[0], access_to(kinds[0], n), profile.access_levels[0])
            rules_settle(api, share["id"], 1)
        out.append((share, {loc["path"] for loc in api.export_locations(share["id"])},
                    {r["access_to"]: r["state"] for r in api.access_rules(share["id"])}))
    return out


def _service_reports_after(api, binary, since):
    return api.wait_for(f"{binary} reports up after the restart", api.services,
                        lambda svcs: any(s["binary"] == binary and s["state"] == "up"
                                         and (s["updated_at"] or "") > since for s in svcs))


def _same_state(api, before, when):
    for share, paths, rules in before:
        now = api.wait_share(share["id"])
        expect(now["size"] == share["size"], f"{when}: share {share['id']} size {share['size']} -> {now['size']}")
        got = {loc["path"] for loc in api.export_locations(share["id"])}
        expect(got == paths, f"{when}: export locations of {share['id']} changed: {sorted(paths)} -> {sorted(got)}")
        states = {r["access_to"]: r["state"] for r in rules_settle(api, share["id"], len(rules))}
        expect(states == rules, f"{when}: rules of {share['id']} changed: {rules} -> {states}")


@check("9ca1df27-fe20-4892-ad60-84353bce9351", "ensure_shares")
def test_share_service_restart_keeps_shares_and_rules(api, profile, target):
    """manila-share restarts (ensure_shares through the real manager): every share comes back
    available with its export locations and rules."""
    _restartable(target)
    before = _shares_with_rules(api, profile, 2)
    since = max(s["updated_at"] or "" for s in api.services())
    target.restart(["manila-share"])
    _service_reports_after(api, "manila-share", since)
    _same_state(api, before, "after a manila-share restart")


@check("c3b5052e-3941-41e7-851f-8ac03d9c3bc9", "share")
def test_api_and_scheduler_restart_keep_state(api, profile, target):
    """manila-api and manila-scheduler restart: shares keep state, and new ones still schedule."""
    _restartable(target)
    before = _shares_with_rules(api, profile, 2)
    since = max(s["updated_at"] or "" for s in api.services())
    target.restart(["manila-scheduler", "manila-api"])
    _service_reports_after(api, "manila-scheduler", since)
    _same_state(api, before, "after an API and scheduler restart")
    expect(bool(api.pools(target.backend)),
           f"the restarted scheduler does not list back end {target.backend!r}")
    new_share(api, profile)


@check("1407cf32-8703-4632-a3e0-0f2f7406f8c4", "access_{access_type}")
def test_refused_rule_ends_in_error_and_spares_the_others(api, profile, proto, access_type):
    """A rule the driver must refuse (an access type the profile does not list for the protocol)
    ends in `error` through the real manager, never `active`; the share's good rule stays active.

    Catches drivers (and helpers) whose refusals the manager cannot match to its rules, e.g.
    updates keyed by the wrong rule id: the refused rule then looks granted.
    """
    listed = set(profile.access_types.get(proto) or ())
    refused_type = next((t for t in ("user", "ip", "cephx", "cert") if t not in listed), None)
    if refused_type is None:
        pytest.skip(f"the profile lists every access type for {proto}")
    share = new_share(api, profile, proto)
    good = api.grant(share["id"], access_type, access_to(access_type, 1), profile.access_levels[0])
    first = rules_settle(api, share["id"], 1)[0]["state"]
    expect(first == "active", f"the valid {access_type} rule ended in {first} before any refused "
                              "rule was added (test_access_rules_reach_active says why)")
    bad = api.grant(share["id"], refused_type, access_to(refused_type, 2), "rw")
    rules = {r["id"]: r for r in rules_settle(api, share["id"], 2)}
    expect(rules[bad["id"]]["state"] == "error",
           f"a {refused_type} rule on a {proto} share (the profile lists only "
           f"{sorted(listed)}) ended in {rules[bad['id']]['state']}, not error: the manager "
           "reports access the driver did not grant")
    expect(first != "active" or rules[good["id"]]["state"] == "active",
           f"the valid {access_type} rule went from active to {rules[good['id']]['state']} "
           f"when a refused {refused_type} rule was added")


def _replicas_settle(api, share_id, active_id, count):
    """Wait until the share has `count` replicas, none busy, `active_id` active; fail early on error."""
    def settled(replicas):
        return (len(replicas) == count and all(r["status"] == "available" for r in replicas)
                and any(r["id"] == active_id and r["replica_state"] == "active" for r in replicas)
                and all(r["replica_state"] in ("active", "in_sync") for r in replicas))

    return api.wait_for(f"replicas of share {share_id} -> available, {active_id} active, the others in_sync",
                        lambda: api.replicas(share_id), settled,
                        lambda replicas: any("error" in (r["status"], r["replica_state"]) for r in replicas))


def _one_active(replicas, when):
    active = [r["id"] for r in replicas if r["replica_state"] == "active"]
    expect(len(active) == 1, f"{when}: {len(active)} active replicas ({', '.join(active)}); the "
                             "manager keeps what promote_replica returns, so the driver must "
                             "return the demoted replica's new state too")


@check("ad2e2dc2-5a9f-4ec4-afce-4eee7c8f5b7b", "replication_{replication_kind}")
def test_replica_states_survive_the_manager(api, profile, target, replication_kind):
    """A replica on the lab's second back end reaches in_sync through the real manager; a
    promotion there and back (two changes) leaves exactly one active replica each time; a
    resync of the demoted replica (update_replica_state) keeps it in_sync; every replica the
    driver claims readable lists export locations; the demoted replica can be deleted."""
    share_type = api.create_share_type(
        f"certkit-replication-{secrets.token_hex(4)}",
        {"driver_handles_share_servers": str(target.dhss), "replication_type": replication_kind})
    share = new_share(api, profile, share_type=share_type["id"])
    [first] = api.replicas(share["id"])
    second = api.create_replica(share["id"])
    replicas = _replicas_settle(api, share["id"], first["id"], 2)
    hosts = {r["host"] for r in replicas}
    expect(len(hosts) == 2, f"both replicas are on {hosts} (the lab's second back end got none)")
    for new_active, demoted in ((second["id"], first["id"]), (first["id"], second["id"])):
        api.promote_replica(new_active)
        replicas = api.wait_for(
            f"replica {new_active} -> active",
            lambda: api.replicas(share["id"]),
            lambda rs, new_active=new_active: all(r["status"] == "available" for r in rs)
            and any(r["id"] == new_active and r["replica_state"] == "active" for r in rs),
            lambda rs: any("error" in (r["status"], r["replica_state"]) for r in rs))
        _one_active(replicas, f"after promoting {new_active}")
        api.resync_replica(demoted)
        _replicas_settle(api, share["id"], new_active, 2)
        if replication_kind != "dr":  # dr replicas are not exported until promoted
            for replica in replicas:
                where = api.replica_export_locations(replica["id"])
                expect(bool(where), f"replica {replica['id']} ({replica['replica_state']}) lists no "
                                    "export location after the promotion")
    api.delete_replica(second["id"])
    api.wait_for(f"replica {second['id']} deleted", lambda: [r["id"] for r in api.replicas(share["id"])],
                 lambda ids: ids == [first["id"]])


@check("2670cd61-fbd8-40f4-91e3-3f5b1bccb56d", "share_servers")
def test_share_server_is_set_up_and_removed_with_its_network(api, profile, target):
    """DHSS=True: a share on a new share network gets a share server the driver set up (active,
    on the back end), and Manila removes the server once the share and its network are deleted
    (a server left behind would leak on the back end)."""
    if not target.dhss:
        pytest.skip("the back end runs driver_handles_share_servers=False: no share servers")
    network = api.create_share_network(f"certkit-{secrets.token_hex(4)}")
    share = new_share(api, profile, share_network=network["id"])
    server_id = share.get("share_server_id")
    expect(bool(server_id), f"share {share['id']} on share network {network['id']} is available "
                            "but has no share server")
    server = api.show_share_server(server_id)
    expect(server["status"] == "active", f"share server {server_id} is {server['status']}, not active")
    hosts = {p.split("#")[0] for p in api.pools(target.backend)}
    expect(server["host"] in hosts, f"share server {server_id} runs on {server['host']!r}, not on "
                                    f"back end {target.backend!r} ({', '.join(sorted(hosts))})")
    api.delete_share(share["id"])
    api.wait_for_resource_deletion(f"share:{share['id']}")
    api.delete_share_network(network["id"])  # waits until Manila removed the server
    left = [s["id"] for s in api.share_servers() if s["id"] == server_id]
    expect(not left, f"share server {server_id} outlived its share network")
