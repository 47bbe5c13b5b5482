"""Share-server networks of the lab's DHSS=True back end, without Neutron.

Manila's StandaloneNetworkPlugin reserves addresses of one configured range as rows in Manila's
database, so every service process sees the same allocations (certkit's in-process
StaticNetworkPlugin hands out none, and the share manager reads a server's allocations back
from the database: a driver asking for any gets an empty list). The user range serves every
share network; a second group gives the admin allocations some drivers (the DummyDriver) need.
Both are private (RFC 1918) ranges nothing on this machine routes: the plugin only books
addresses, it configures no interface.
"""

from __future__ import annotations

from typing import Any, Mapping

STANDALONE = "manila.network.standalone_network_plugin.StandaloneNetworkPlugin"
ADMIN_GROUP = "certkit-lab-admin-network"
USER_NET = ("10.254.0.1", "24", "10.254.0.10-10.254.0.250")
ADMIN_NET = ("10.254.1.1", "24", "10.254.1.10-10.254.1.250")


def _standalone(net: tuple[str, str, str]) -> dict[str, Any]:
    gateway, mask, ranges = net
    return {"network_api_class": STANDALONE, "standalone_network_plugin_gateway": gateway,
            "standalone_network_plugin_mask": mask,
            "standalone_network_plugin_allowed_ip_ranges": ranges}


def share_server_network(options: dict[str, Any], profile_config: Mapping[str, Any]
                         ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(the back end's options with the lab's network plugin, extra manila.conf groups).

    A plugin the profile's config names is kept (its options are the vendor's business); the
    harness's in-process default is replaced by the standalone plugin.
    """
    if "network_api_class" in profile_config:
        return options, {}
    merged = {**options, **_standalone(USER_NET), "admin_network_config_group": ADMIN_GROUP}
    return merged, {ADMIN_GROUP: _standalone(ADMIN_NET)}
