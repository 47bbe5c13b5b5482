"""Share servers (DHSS=True): set-up with manager-shaped network_info, ledger-tracked teardown."""

from __future__ import annotations

from typing import Any

from certkit.contract.checks import expect, expect_schema
from certkit.contract.resources import Resources
from certkit.harness.models import Model
from certkit.harness.network import AddressPool, network_info

_POOL = AddressPool()


class Servers:
    """Share servers created through one DHSS=True driver instance."""

    def __init__(self, res: Resources, ip_version: int = 4) -> None:
        self.res = res
        self.ip_version = ip_version

    def network_info_for(self, server: Model) -> list[dict[str, Any]]:
        """network_info for a server, sized by the driver's allocation counts."""
        count = self.res.driver.get_network_allocations_number()
        admin = self.res.driver.get_admin_network_allocations_number()
        expect(isinstance(count, int) and count >= 0,
               f"get_network_allocations_number returned {count!r}; expected an int >= 0")
        expect(isinstance(admin, int) and admin >= 0,
               f"get_admin_network_allocations_number returned {admin!r}; expected an int >= 0")
        return network_info(_POOL, self.res.models.new_id, server["id"], count, admin, self.ip_version)

    def setup(self, server: Model | None = None) -> Model:
        """setup_server(network_info, metadata=...) → backend details (recorded for teardown)."""
        server = server or self.res.models.share_server()
        info = self.network_info_for(server)
        server["network_info"] = info
        server["network_allocations"] = info[0]["network_allocations"]
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
                                        security_services=[])
        self.res.release(server["id"])
