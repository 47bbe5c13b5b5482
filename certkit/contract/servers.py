"""Share servers (DHSS=True): set-up with manager-shaped network_info, ledger-tracked teardown."""

from __future__ import annotations

from typing import Any

from certkit.contract.checks import expect, expect_schema
from certkit.contract.resources import Resources, accepts
from certkit.harness.models import Model
from certkit.harness.network import AddressPool, network_info

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
        entry = self.res.ledger.track("share_server", server["id"], f"share-server-{server['id']}",
                                      lambda: self.teardown(server))
        self.res.entries.append(entry)
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
