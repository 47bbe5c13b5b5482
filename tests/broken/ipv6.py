"""IPv6: a reference driver that implements it (Manila's DummyDriver does not) and broken ones."""

from __future__ import annotations

import ipaddress

from certkit.manila_env import prepare_manila

prepare_manila()

from manila import exception  # noqa: E402 - imported after prepare_manila()
from manila.tests.share.drivers.dummy import DummyDriver  # noqa: E402 - imported after prepare_manila()


class Ipv6DummyDriver(DummyDriver):
    """The dummy with IPv6 implemented: the reference the IPv6 checks must pass."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ipv6_implemented = True

    def get_configured_ip_versions(self):
        return [4, 6]


class RefusesIpv6Rules(Ipv6DummyDriver):
    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        for rule in add_rules:
            if ipaddress.ip_address(rule["access_to"]).version == 6:
                raise exception.InvalidShareAccess(reason="IPv6 clients are not supported")
        return super().update_access(context, share, access_rules, add_rules, delete_rules,
                                     update_rules, share_server)


class Ipv6ServerSetupBreaks(Ipv6DummyDriver):
    def _setup_server(self, network_info, metadata=None):
        if network_info[0]["network_allocations"][0]["ip_version"] == 6:
            raise exception.ShareBackendException(msg="cannot configure an IPv6 interface")
        return super()._setup_server(network_info, metadata)


class Ipv6NotImplementedAttribute(Ipv6DummyDriver):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ipv6_implemented = False


# These run with the profile claiming ipv6 (see REFERENCE below).
BROKEN: dict[type, tuple[str, str, str]] = {
    RefusesIpv6Rules: ("test_ipv6_access_rule", "", "failed"),
    Ipv6ServerSetupBreaks: ("test_share_server_on_ipv6_allocations", "NFS", "failed"),
    Ipv6NotImplementedAttribute: ("test_claim_backed_by_capabilities", "ipv6", "failed"),
}
REFERENCE = Ipv6DummyDriver
EXTRA_FEATURES = ("ipv6",)
