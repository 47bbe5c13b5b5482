"""Share servers (DHSS=True): set-up, placement, manage (servers, and shares and snapshots on
them), security-service and network-allocation updates."""

from __future__ import annotations

import ipaddress

import pytest

from certkit.contract.checks import check, expect
from certkit.contract.manage import Manage
from certkit.contract.servers import Servers


@check("6f962773-cf36-4f52-bb55-e8e0ad45cfcc", "share_servers")
def test_setup_and_teardown_server(server_resources):
    """get_(admin_)network_allocations_number are ints; setup_server(network_info list,
    metadata=) returns string backend details; teardown_server(server_details=,
    security_services=) takes keywords."""
    servers = Servers(server_resources)
    server = servers.setup()
    servers.teardown(server)


@check("f6cd0354-a5eb-41ae-94b6-5d2c60c8abdf", "share_servers")
def test_teardown_server_twice_is_not_an_error(server_resources):
    """A second teardown of the same server succeeds: the manager tears a server down again
    after its deletion failed half-way (status error, then delete once more)."""
    servers = Servers(server_resources)
    server = servers.setup(security_services=[servers.new_security_service("active_directory")])
    servers.teardown(server)
    servers.teardown(server)


@check("aa46d954-046f-4ab8-a2cd-1bced45abae0", "share_servers")
def test_share_on_share_server(server_resources, proto):
    """choose_share_server_compatible_with_share picks a given server (or None for a new one);
    a share is created and deleted on the server."""
    res = server_resources
    servers = Servers(res)
    server = servers.setup()
    share = res.models.share(proto, share_server=server)
    chosen = servers.choose([server], share)
    expect(chosen is None or (isinstance(chosen, dict) and chosen.get("id") == server["id"]),
           f"choose_share_server_compatible_with_share returned {chosen!r}, not one of the servers")
    res.share_server = server
    created = res.create_share(proto)
    res.delete_share(created)
    servers.teardown(server)


@check("a844888d-2931-4349-aa76-05526328829e", "manage_share_server")
def test_unmanage_and_manage_server(server_resources):
    """unmanage_server keeps the server; get_share_server_network_info lists its IPs;
    manage_server returns (identifier, backend details)."""
    res = server_resources
    servers = Servers(res)
    server = servers.setup()
    servers.unmanage(server)
    ips = servers.network_info_ips(server)
    expect(isinstance(ips, list) and ips, f"get_share_server_network_info returned {ips!r}")
    for ip in ips:
        try:
            ipaddress.ip_address(ip)
        except (TypeError, ValueError):
            expect(False, f"get_share_server_network_info returned {ip!r}, not an IP address")
    wanted = len(server["network_allocations"])
    expect(len(ips) >= wanted, f"{len(ips)} IPs returned; the server has {wanted} allocations "
                               "(the manager raises ManageShareServerError)")
    servers.manage(server)
    servers.teardown(server)


@check("9c18510a-39de-4501-8def-6c39397ae3a8", "manage_share")
def test_unmanage_then_manage_share_with_server(server_resources, proto):
    """DHSS=True: unmanage_with_server leaves the share; manage_existing_with_server(share,
    driver_options, share_server=) returns an int size and valid export locations."""
    res = server_resources
    servers = Servers(res)
    res.share_server = server = servers.setup()
    manage = Manage(res, with_server=True)
    share = res.create_share(proto)
    manage.unmanage_share(share)
    managed, _ = manage.manage_share(share)
    res.delete_share(managed)
    servers.teardown(server)


@check("5002afae-2a94-4414-b946-49a8b3ee83a0", "manage_snapshot")
def test_unmanage_then_manage_snapshot_with_server(server_resources, profile):
    """DHSS=True: unmanage_snapshot_with_server leaves the snapshot;
    manage_existing_snapshot_with_server returns a valid model update."""
    res = server_resources
    servers = Servers(res)
    res.share_server = server = servers.setup()
    share = res.create_share(profile.protocols[0])
    manage = Manage(res, with_server=True)
    snapshot = res.create_snapshot(share)
    manage.unmanage_snapshot(snapshot)
    managed, _ = manage.manage_snapshot(share, snapshot)
    res.delete_snapshot(managed)
    res.delete_share(share)
    servers.teardown(server)


@check("9d54462b-9e63-4677-8091-ba95bf13a748", "security_service_update")
def test_security_service_update(server_resources, proto):
    """check_update_share_server_security_service answers a bool; adding a security service and
    then replacing it (current_security_service=) succeed, as the manager calls them."""
    res = server_resources
    servers = Servers(res)
    server = servers.setup()
    res.share_server = server
    share = res.create_share(proto)
    kind = "active_directory" if proto == "CIFS" else "ldap"
    current = None
    for _ in ("add", "replace"):  # replace: the manager swaps services of the same type
        new = servers.new_security_service(kind)
        ok = servers.check_security_service_update(server, [share], new, current)
        expect(isinstance(ok, bool), f"check_update_share_server_security_service returned "
                                     f"{ok!r}, not a bool")
        expect(ok, "check_update_share_server_security_service refused a claimed update "
                   f"({'replace' if current else 'add'} {kind})")
        update = servers.update_security_service(server, [share], new, current)
        what = "update_share_server_security_service()"
        unknown = sorted(set(update or {}) - {share["id"]})
        expect(not unknown, f"{what} returned rule updates for shares it was not given: {unknown}")
        current = new
    res.delete_share(share)
    servers.teardown(server)


@check("0c454f88-cbd0-40a7-bc1e-2b7fb8cad736", "network_allocation_update")
def test_network_allocation_update(server_resources, proto):
    """check_update_share_server_network_allocations answers a bool; the update (a new subnet's
    allocations) returns {share_updates, snapshot_updates, server_details} keyed by the ids
    it was given."""
    res = server_resources
    servers = Servers(res)
    server = servers.setup()
    res.share_server = server
    share = res.create_share(proto)
    subnet = servers.new_subnet()
    ok = servers.check_allocation_update(server, subnet, [share])
    expect(isinstance(ok, bool) and ok,
           f"check_update_share_server_network_allocations returned {ok!r}; expected True")
    result = servers.update_allocations(server, subnet, [share])
    unknown = sorted(set(result.get("share_updates") or {}) - {share["id"]})
    expect(not unknown, "update_share_server_network_allocations().share_updates names shares "
                        f"it was not given: {unknown}")
    res.delete_share(share)
    servers.teardown(server)


@check("7a595ce1-c866-46a4-9337-c4129ae4ce73", "ipv6")
def test_share_server_on_ipv6_allocations(request, profile, proto):
    """With IPv6 claimed, a share server set up on IPv6 allocations serves a share."""
    if True not in profile.dhss_modes:
        pytest.skip("IPv6 share servers need driver_handles_share_servers=True")
    res = request.getfixturevalue("server_resources")
    servers = Servers(res, ip_version=6)
    server = servers.setup()
    res.share_server = server
    share = res.create_share(proto)
    res.delete_share(share)
    servers.teardown(server)


@check("2e388e6a-92a8-45ce-bec0-2057102ad026", "ipv6")
def test_ipv6_access_rule(resources, profile):
    """With IPv6 claimed, an ip rule naming an IPv6 client is applied and deleted."""
    proto = next((p for p, kinds in profile.access_types.items() if "ip" in kinds), None)
    if proto is None:
        pytest.skip("IPv6 access rules need an ip access type")
    share = resources.create_share(proto)
    rule = resources.models.access_rule(share, "ip", "2001:db8:ce27::42")
    result = resources.grant(share, rule) or {}
    expect((result.get(rule["access_id"]) or {}).get("state") != "error",
           "a valid IPv6 ip rule came back in state 'error'")
    resources.revoke(share, rule)
