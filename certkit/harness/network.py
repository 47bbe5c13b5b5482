"""A network plugin double for DHSS=True drivers, and network_info shaped like the manager's.

Drivers that handle share servers build a `manila.network.API` in their constructor; pointing
`network_api_class` at StaticNetworkPlugin keeps them away from Neutron. Allocations come from
documentation ranges (RFC 5737 / RFC 3849), so they can never collide with a real network.
"""

from __future__ import annotations

import ipaddress
import itertools
import threading
from typing import Any

from certkit.manila_env import prepare_manila

prepare_manila()

from manila import network  # noqa: E402

USER_V4 = ipaddress.ip_network("192.0.2.0/24")
ADMIN_V4 = ipaddress.ip_network("203.0.113.0/24")
USER_V6 = ipaddress.ip_network("2001:db8:ce27::/64")
PLUGIN_PATH = "certkit.harness.network.StaticNetworkPlugin"


class StaticNetworkPlugin(network.NetworkBaseAPI):
    """Hands out nothing by itself: the harness builds allocations; this only satisfies the
    driver's constructor and reports the IP versions in use."""

    def __init__(self, config_group_name: str | None = None, db_driver: Any = None,
                 label: str = "user") -> None:
        super().__init__(config_group_name=config_group_name, db_driver=db_driver)
        self.label = label
        self._enabled_ip_versions = {4, 6}

    def allocate_network(self, context, share_server, share_network=None,
                         share_network_subnet=None, **kwargs):
        return []

    def deallocate_network(self, context, share_server_id, share_network=None,
                           share_network_subnet=None):
        return None

    def manage_network_allocations(self, context, allocations, share_server, share_network=None,
                                   share_network_subnet=None):
        return []

    def unmanage_network_allocations(self, context, share_server_id):
        return None

    def include_network_info(self, share_network_subnet):
        return None


class AddressPool:
    """Thread-safe allocation of addresses from the documentation ranges."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = {USER_V4: itertools.count(10), ADMIN_V4: itertools.count(10),
                      USER_V6: itertools.count(16)}

    def take(self, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
        """The next free address of a range."""
        with self._lock:
            return str(net[next(self._next[net])])


def _allocation(pool: AddressPool, server_id: str, net: Any, label: str, alloc_id: str) -> dict[str, Any]:
    return {"id": alloc_id, "share_server_id": server_id, "ip_address": pool.take(net),
            "ip_version": net.version, "cidr": str(net), "gateway": str(net[1]), "mtu": 1500,
            "network_type": "flat", "segmentation_id": None, "label": label,
            "mac_address": None, "status": "active"}


def network_info(pool: AddressPool, new_id: Any, server_id: str, allocations: int,
                 admin_allocations: int, ip_version: int = 4,
                 security_services: list[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The list (one dict per share-network subnet) the manager passes to setup_server."""
    user_net = USER_V6 if ip_version == 6 else USER_V4
    return [{
        "server_id": server_id,
        "network_allocations": [_allocation(pool, server_id, user_net, "user", new_id())
                                for _ in range(allocations)],
        "admin_network_allocations": [_allocation(pool, server_id, ADMIN_V4, "admin", new_id())
                                      for _ in range(admin_allocations)],
        "security_services": list(security_services), "segmentation_id": None,
        "cidr": str(user_net), "network_type": "flat", "neutron_net_id": new_id(),
        "neutron_subnet_id": new_id(), "backend_details": {}, "subnet_metadata": {},
        "network_allocation_update_support": False, "mtu": 1500, "gateway": str(user_net[1]),
        "ip_version": ip_version,
    }]
