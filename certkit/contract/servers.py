"""Share servers (DHSS=True): set-up with manager-shaped network_info, ledger-tracked teardown,
manage/unmanage, placement, and security-service and network-allocation updates, each return
value checked against its schema."""

from __future__ import annotations

from typing import Any

from certkit.contract.checks import expect, expect_schema
from certkit.contract.resources import Resources
from certkit.harness.models import Model
from certkit.harness.network import (ADDED_V4, AddressPool, network_info, security_service,
                                     share_network_subnet, subnet_allocations)
from certkit.manila_abc import accepts

_POOL = AddressPool()


def instance_rules(shares: list[Model], rules: dict[str, list[Any]] | None = None) -> list[dict[str, Any]]:
    """share_instances_rules as the manager builds it: one {share_instance_id, access_rules} per share."""
    return [{"share_instance_id": s["id"], "access_rules": list((rules or {}).get(s["id"], []))}
            for s in shares]


def share_placement_kwargs(snapshot: Any = None, share_group: Any = None) -> dict[str, Any]:
    """Keywords of choose_share_server_compatible_with_share in the installed Manila
    (encryption_key_ref arrived in 2025.2; older releases would raise TypeError on it)."""
    kwargs = {"snapshot": snapshot, "share_group": share_group}
    if accepts("choose_share_server_compatible_with_share", "encryption_key_ref"):
        kwargs["encryption_key_ref"] = None
    return kwargs


class Servers:
    """Share servers created through one DHSS=True driver instance."""

    def __init__(self, res: Resources, ip_version: int = 4) -> None:
        self.res = res
        self.ip_version = ip_version

    @property
    def pool(self) -> AddressPool:
        """The addresses the network plugin double hands out."""
        return _POOL

    def allocation_counts(self) -> tuple[int, int]:
        """(user, admin) allocations per subnet, which the manager asks for before set-up."""
        count = self.res.driver.get_network_allocations_number()
        admin = self.res.driver.get_admin_network_allocations_number()
        for name, value in (("get_network_allocations_number", count),
                            ("get_admin_network_allocations_number", admin)):
            expect(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
                   f"{name} returned {value!r}; expected an int >= 0 (the manager allocates "
                   "that many ports)")
        return count, admin

    def network_info_for(self, server: Model,
                         security_services: list[dict[str, Any]] = ()) -> list[dict[str, Any]]:
        """network_info for a server, sized by the driver's allocation counts."""
        count, admin = self.allocation_counts()
        return network_info(_POOL, self.res.models.new_id, server["id"], count, admin,
                            self.ip_version, security_services)

    def setup(self, server: Model | None = None,
              security_services: list[dict[str, Any]] = ()) -> Model:
        """setup_server(network_info, metadata=...) → backend details (recorded for teardown)."""
        server = server or self.res.models.share_server()
        info = self.network_info_for(server, security_services)
        server["network_info"] = info
        server["security_services"] = list(security_services)
        server["network_allocations"] = [a for subnet in info for a in subnet["network_allocations"]]
        server["share_network_subnet_ids"] = [subnet["share_network_subnet_id"] for subnet in info]
        self.res.track("share_server", server["id"], f"share-server-{server['id']}",
                       lambda: self.teardown(server))
        details = self.res.driver.setup_server(
            info, metadata={"request_host": server["host"], "encryption_key_ref": None})
        expect_schema(details, "server_details.schema.json", "setup_server()")
        server["backend_details"] = dict(details or {})
        server["identifier"] = (details or {}).get("identifier") or server["id"]
        server["status"] = "active"
        return server

    def teardown(self, server: Model) -> None:
        """teardown_server with keywords only, as the manager calls it."""
        self.res.driver.teardown_server(server_details=server["backend_details"],
                                        security_services=server.get("security_services") or [])
        self.res.release(server["id"])

    # -- placement and manage ----------------------------------------------------------------
    def choose(self, candidates: list[Model], share: Model) -> Any:
        """choose_share_server_compatible_with_share, with this Manila's keywords."""
        res = self.res
        return res.driver.choose_share_server_compatible_with_share(
            res.context, candidates, share, **share_placement_kwargs())

    def unmanage(self, server: Model) -> None:
        """unmanage_server(server_details, security_services), positional as the manager calls
        it: the server stays on the back end (still recorded for teardown)."""
        self.res.driver.unmanage_server(server["backend_details"], [])

    def network_info_ips(self, server: Model) -> Any:
        """get_share_server_network_info: the server's IPs, as manage_server's caller reads them."""
        res = self.res
        return res.driver.get_share_server_network_info(res.context, server, server["identifier"], {})

    def manage(self, server: Model) -> Any:
        """manage_server → (identifier, backend details), merged into the server's details."""
        res = self.res
        result = res.driver.manage_server(res.context, server, server["identifier"], {})
        expect_schema(list(result) if isinstance(result, tuple) else result,
                      "manage_server.schema.json", "manage_server()")
        server["backend_details"] = {**server["backend_details"], **dict(result[1])}
        return result

    # -- updates on an in-use server ---------------------------------------------------------
    def new_security_service(self, kind: str) -> dict[str, Any]:
        """A security service of a kind (active_directory, ldap, kerberos)."""
        return security_service(self.res.models.new_id, kind)

    def check_security_service_update(self, server: Model, shares: list[Model],
                                      new: dict[str, Any], current: dict[str, Any] | None) -> Any:
        """check_update_share_server_security_service, as the manager calls it."""
        res = self.res
        return res.driver.check_update_share_server_security_service(
            res.context, server, server["network_info"], shares, instance_rules(shares), new,
            current_security_service=current)

    def update_security_service(self, server: Model, shares: list[Model], new: dict[str, Any],
                                current: dict[str, Any] | None) -> dict[str, Any] | None:
        """update_share_server_security_service; rule updates keyed by share instance id."""
        res = self.res
        update = res.driver.update_share_server_security_service(
            res.context, server, server["network_info"], shares, instance_rules(shares), new,
            current_security_service=current)
        expect_schema(update, "security_service_update.schema.json",
                      "update_share_server_security_service()")
        return update

    @staticmethod
    def current_allocations(server: Model) -> dict[str, Any]:
        """current_network_allocations as the manager builds it from the server's subnets."""
        info = server["network_info"]
        return {"admin_network_allocations": info[0]["admin_network_allocations"],
                "subnets": [{"share_network_subnet_id": s["share_network_subnet_id"],
                             "neutron_net_id": s["neutron_net_id"],
                             "neutron_subnet_id": s["neutron_subnet_id"],
                             "network_allocations": s["network_allocations"]} for s in info]}

    def new_subnet(self) -> dict[str, Any]:
        """A share network subnet being added to the server's network."""
        return share_network_subnet(self.res.models.new_id, net=ADDED_V4)

    def check_allocation_update(self, server: Model, subnet: dict[str, Any],
                                shares: list[Model]) -> Any:
        """check_update_share_server_network_allocations, as the manager calls it."""
        res = self.res
        return res.driver.check_update_share_server_network_allocations(
            res.context, server, self.current_allocations(server), subnet, [], shares,
            instance_rules(shares))

    def update_allocations(self, server: Model, subnet: dict[str, Any],
                           shares: list[Model]) -> dict[str, Any]:
        """update_share_server_network_allocations with the new subnet's allocations; the
        returned server details are merged into the server's."""
        res = self.res
        count, _ = self.allocation_counts()
        new = subnet_allocations(_POOL, res.models.new_id, server["id"], subnet, count)
        result = res.driver.update_share_server_network_allocations(
            res.context, server, self.current_allocations(server), new, [], shares, [])
        expect_schema(result, "network_allocation_update.schema.json",
                      "update_share_server_network_allocations()")
        server["backend_details"] = {**server["backend_details"],
                                     **(result.get("server_details") or {})}
        return result
