"""Share servers (DHSS=True): set-up, placement, manage, security-service and network updates."""

from __future__ import annotations

import ipaddress

import pytest

from certkit.contract.checks import check, expect, expect_schema
from certkit.contract.servers import Servers


@check("3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a13", "share_servers")
def test_setup_and_teardown_server(server_resources):
    """setup_server(network_info list, metadata=) returns string backend details;
    teardown_server(server_details=, security_services=) takes keywords."""
    servers = Servers(server_resources)
    server = servers.setup()
    servers.teardown(server)


@check("4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b14", "share_servers")
def test_share_on_share_server(server_resources, proto):
    """choose_share_server_compatible_with_share picks a given server (or None for a new one);
    a share is created and deleted on the server."""
    res = server_resources
    servers = Servers(res)
    server = servers.setup()
    share = res.models.share(proto, share_server=server)
    chosen = res.driver.choose_share_server_compatible_with_share(
        res.context, [server], share, snapshot=None, share_group=None, encryption_key_ref=None)
    expect(chosen is None or (isinstance(chosen, dict) and chosen.get("id") == server["id"]),
           f"choose_share_server_compatible_with_share returned {chosen!r}, not one of the servers")
    res.share_server = server
    created = res.create_share(proto)
    res.delete_share(created)
    servers.teardown(server)


@check("5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c15", "manage_share_server")
def test_unmanage_and_manage_server(server_resources):
    """unmanage_server keeps the server; get_share_server_network_info lists its IPs;
    manage_server returns (identifier, backend details)."""
    res = server_resources
    servers = Servers(res)
    server = servers.setup()
    res.driver.unmanage_server(server["backend_details"], security_services=[])
    ips = res.driver.get_share_server_network_info(res.context, server, server["identifier"], {})
    expect(isinstance(ips, list) and ips, f"get_share_server_network_info returned {ips!r}")
    for ip in ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            expect(False, f"get_share_server_network_info returned {ip!r}, not an IP address")
    wanted = len(server["network_allocations"])
    expect(len(ips) >= wanted, f"{len(ips)} IPs returned; the server has {wanted} allocations "
                               "(the manager raises ManageShareServerError)")
    result = res.driver.manage_server(res.context, server, server["identifier"], {})
    expect_schema(list(result) if isinstance(result, tuple) else result,
                  "manage_server.schema.json", "manage_server()")
    server["backend_details"] = dict(result[1])
    servers.teardown(server)


def _security_service(res, kind="active_directory"):
    return {"id": res.models.new_id(), "type": kind, "name": "certkit-ss", "dns_ip": "192.0.2.53",
            "server": "ad.certkit.example", "domain": "certkit.example", "user": "certkit",
            "password": "certkit-not-a-secret", "ou": None, "default_ad_site": None}


@check("6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d16", "security_service_update")
def test_security_service_update(server_resources, proto):
    """check_update_share_server_security_service answers a bool; the update itself succeeds."""
    res = server_resources
    servers = Servers(res)
    server = servers.setup()
    res.share_server = server
    share = res.create_share(proto)
    args = (res.context, server, server["network_info"], [dict(share)], {share["id"]: []},
            _security_service(res))
    ok = res.driver.check_update_share_server_security_service(*args, current_security_service=None)
    expect(isinstance(ok, bool), f"check_update_share_server_security_service returned {ok!r}, not a bool")
    expect(ok, "check_update_share_server_security_service refused a claimed update")
    update = res.driver.update_share_server_security_service(*args, current_security_service=None)
    expect(update is None or isinstance(update, dict),
           f"update_share_server_security_service returned {type(update).__name__}, expected None or a dict")
    res.delete_share(share)
    servers.teardown(server)


@check("7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e17", "network_allocation_update")
def test_network_allocation_update(server_resources, proto):
    """check_update_share_server_network_allocations answers a bool; the update returns
    {share_updates, snapshot_updates, server_details} with valid export locations."""
    res = server_resources
    servers = Servers(res)
    server = servers.setup()
    res.share_server = server
    share = res.create_share(proto)
    current = {"admin_network_allocations": server["network_info"][0]["admin_network_allocations"],
               "subnets": server["network_info"]}
    new_subnet = servers.network_info_for(server)[0]
    ok = res.driver.check_update_share_server_network_allocations(
        res.context, server, current, new_subnet, [], [dict(share)], {share["id"]: []})
    expect(isinstance(ok, bool) and ok,
           f"check_update_share_server_network_allocations returned {ok!r}; expected True")
    result = res.driver.update_share_server_network_allocations(
        res.context, server, current, new_subnet, [], [dict(share)], [])
    expect(isinstance(result, dict), f"update_share_server_network_allocations returned {result!r}")
    for share_id, locations in (result.get("share_updates") or {}).items():
        expect(share_id == share["id"], f"share_updates names unknown share {share_id}")
        expect_schema(locations, "export_locations.schema.json",
                      f"update_share_server_network_allocations().share_updates[{share_id}]")
    expect_schema(result.get("server_details") or {}, "server_details.schema.json",
                  "update_share_server_network_allocations().server_details")
    res.delete_share(share)
    servers.teardown(server)


@check("ab1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d30", "ipv6")
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


@check("bc2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e31", "ipv6")
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
