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

from manila import network  # noqa: E402 - imported after prepare_manila()

USER_V4 = ipaddress.ip_network("192.0.2.0/24")
ADMIN_V4 = ipaddress.ip_network("203.0.113.0/24")
USER_V6 = ipaddress.ip_network("2001:db8:ce27::/64")
ADDED_V4 = ipaddress.ip_network("198.51.100.128/25")
"""The subnet a network-allocation update adds (access-rule clients use 198.51.100.1-127)."""
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
        self._next: dict[Any, itertools.count] = {}

    def take(self, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
        """The next address of a range (skipping the first ten); wraps around, since one
        process may run many certifications."""
        usable = min(net.num_addresses - 12, 2 ** 16)
        with self._lock:
            n = next(self._next.setdefault(net, itertools.count()))
        return str(net[10 + n % usable])


def _allocation(pool: AddressPool, server_id: str, net: Any, label: str, alloc_id: str) -> dict[str, Any]:
    return {"id": alloc_id, "share_server_id": server_id, "ip_address": pool.take(net),
            "ip_version": net.version, "cidr": str(net), "gateway": str(net[1]), "mtu": 1500,
            "network_type": "flat", "segmentation_id": None, "label": label,
            "mac_address": None, "status": "active"}


def network_info(pool: AddressPool, new_id: Any, server_id: str, allocations: int,
                 admin_allocations: int, ip_version: int = 4,
                 security_services: list[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The list (one dict per share-network subnet) the manager passes to setup_server
    (`ShareManager._form_server_setup_info`)."""
    subnet = share_network_subnet(new_id, ip_version)
    admin = [_allocation(pool, server_id, ADMIN_V4, "admin", new_id())
             for _ in range(admin_allocations)]
    return [{
        "server_id": server_id, "share_network_subnet_id": subnet["id"],
        "segmentation_id": subnet["segmentation_id"], "cidr": subnet["cidr"],
        "neutron_net_id": subnet["neutron_net_id"], "neutron_subnet_id": subnet["neutron_subnet_id"],
        "security_services": list(security_services),
        "network_allocations": subnet_allocations(pool, new_id, server_id, subnet,
                                                  allocations)["network_allocations"],
        "admin_network_allocations": admin, "backend_details": {},
        "network_type": subnet["network_type"], "subnet_metadata": subnet["subnet_metadata"],
    }]


def share_network_subnet(new_id: Any, ip_version: int = 4, net: Any = None) -> dict[str, Any]:
    """A share-network subnet row, as the manager passes a new one to
    check_update_share_server_network_allocations."""
    net = net or (USER_V6 if ip_version == 6 else USER_V4)
    return {"id": new_id(), "share_network_id": new_id(), "availability_zone_id": new_id(),
            "neutron_net_id": new_id(), "neutron_subnet_id": new_id(), "network_type": "flat",
            "segmentation_id": None, "cidr": str(net), "gateway": str(net[1]), "mtu": 1500,
            "ip_version": ip_version, "subnet_metadata": {}}


def subnet_allocations(pool: AddressPool, new_id: Any, server_id: str, subnet: dict[str, Any],
                       allocations: int) -> dict[str, Any]:
    """One subnet's user allocations (`ShareManager._get_subnet_allocations`): what
    update_share_server_network_allocations gets as new_network_allocations."""
    net = ipaddress.ip_network(subnet["cidr"])
    return {"share_network_subnet_id": subnet["id"], "neutron_net_id": subnet["neutron_net_id"],
            "neutron_subnet_id": subnet["neutron_subnet_id"],
            "network_allocations": [_allocation(pool, server_id, net, "user", new_id())
                                    for _ in range(allocations)]}


def security_service(new_id: Any, kind: str = "active_directory") -> dict[str, Any]:
    """A security service row with every key the manager copies into backend details."""
    return {"id": new_id(), "type": kind, "name": f"certkit-{kind}", "description": None,
            "dns_ip": "192.0.2.53", "server": "dc.certkit.example", "domain": "certkit.example",
            "user": "certkit", "password": "certkit-not-a-secret", "ou": None,
            "default_ad_site": None}
