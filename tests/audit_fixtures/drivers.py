"""Small purpose-built driver classes, one audit finding each."""

from __future__ import annotations

from certkit.manila_env import prepare_manila

prepare_manila()

from manila.share import driver  # noqa: E402


class ShareBasics:
    """create_share and delete_share as the manager calls them, for the fixtures whose finding
    lies elsewhere (a plain mixin: the audit finds them through the MRO, not as a driver)."""

    def create_share(self, context, share, share_server=None):
        return []

    def delete_share(self, context, share, share_server=None):
        pass


class DriftedSignature(driver.ShareDriver):
    """Drops share_server, renames context, requires an extra parameter."""

    def __init__(self, *args, **kwargs):
        super().__init__(False, *args, **kwargs)

    def create_share(self, context, share):
        return []

    def delete_share(self, ctx, share, share_server=None):
        pass

    def extend_share(self, share, new_size, force, share_server=None):
        pass


class LegacyAccess(ShareBasics, driver.ShareDriver):
    """Pre-update_access interfaces: allow/deny_access and ensure_share."""

    def __init__(self, *args, **kwargs):
        super().__init__([False, True], *args, **kwargs)

    def allow_access(self, context, share, access, share_server=None):
        pass

    def deny_access(self, context, share, access, share_server=None):
        pass

    def ensure_share(self, context, share, share_server=None):
        pass


class VendorBase(driver.ShareDriver):
    """A vendor's base class: snapshots live here."""

    def create_snapshot(self, context, snapshot, share_server=None):
        return None

    def delete_snapshot(self, context, snapshot, share_server=None):
        pass


class VendorDriver(ShareBasics, VendorBase):
    """Inherits snapshots from its vendor base (counted through the MRO)."""

    def __init__(self, *args, **kwargs):
        super().__init__(False, *args, **kwargs)

    def _update_share_stats(self, data=None):
        data = {"storage_protocol": "NFS", "revert_to_snapshot_support": True,
                "snapshot_support": True}
        super()._update_share_stats(data)


# --------------------------------------------------------------------- binding (issue 11)
import functools  # noqa: E402


def needs_context(func):
    """A decorator without functools.wraps: Python binds the manager's call to `wrap`."""

    def wrap(self, context, *args, **kwargs):
        return func(self, context, *args, **kwargs)

    return wrap


def narrow(func):
    """A decorator without wraps whose wrapper takes no share_server."""

    def wrap(self, share, new_size):
        return func(self, share, new_size)

    return wrap


def traced(func):
    """A decorator with functools.wraps: the audit binds against the wrapped function."""

    @functools.wraps(func)
    def wrap(*args, **kwargs):
        return func(*args, **kwargs)

    return wrap


class BindingDriver(ShareBasics, driver.ShareDriver):
    """One method per binding verdict, each checked against the manager's real call shapes."""

    def __init__(self, *args, **kwargs):
        super().__init__(False, *args, **kwargs)

    @needs_context
    def extend_share(self, share, new_size, share_server=None):
        """The wrapper `(self, context, *args, **kwargs)` accepts (share, new_size, share_server=)."""

    @narrow
    def shrink_share(self, share, new_size, share_server=None):
        """The wrapper drops share_server: the manager's call cannot bind (error)."""

    def create_backup(self, context, share, backup, **kwargs):
        """**kwargs takes share_server=: binds (the old audit called this an error)."""

    @traced
    def create_snapshot(self, context, snapshot):
        """Wrapped with functools.wraps; the inner function drops share_server: error."""

    def delete_snapshot(self, ctx, snapshot, share_server=None):
        """`context` renamed `ctx`; the manager passes it by position: info."""

    def share_server_migration_get_progress(self, context, src_share_server, dest_share_server):
        """Too few parameters, but a NotImplementedError stub: latent."""
        raise NotImplementedError()


# --------------------------------------------------------------------- evidence (issue 11)


class StubVendorBase(driver.ShareDriver):
    """A vendor base whose snapshot methods are NotImplementedError stubs."""

    def create_snapshot(self, context, snapshot, share_server=None):
        raise NotImplementedError()

    def delete_snapshot(self, context, snapshot, share_server=None):
        """Documented, but a stub all the same."""
        raise NotImplementedError


class EvidenceDriver(ShareBasics, StubVendorBase):
    """Features shown by code, and features only a run can show."""

    ipv6_implemented = True

    def __init__(self, *args, **kwargs):
        super().__init__(False, *args, **kwargs)

    def manage_existing(self, share, driver_options):
        """No unmanage: the base class's no-op unmanage completes the feature."""
        return {"size": 1}

    def ensure_share(self, context, share, share_server=None):
        """ensure_shares comes from the manager's fallback to ensure_share."""

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        for rule in add_rules:
            self._check_rule(rule)

    def _check_rule(self, rule):
        if rule["access_type"] != "ip":
            raise ValueError("only ip")

    def get_configured_ip_versions(self):
        return [4, 6]

    def _update_share_stats(self, data=None):
        data = {"storage_protocol": "NFS", "qos": False, "thin_provisioning": self._thin(),
                "dedupe": [True, False]}
        super()._update_share_stats(data)

    def _thin(self):
        return True


class ComputedAccessDriver(ShareBasics, driver.ShareDriver):
    """update_access with no literal access check: every access cell is unknown."""

    def __init__(self, *args, **kwargs):
        super().__init__(True, *args, **kwargs)

    def update_access(self, context, share, access_rules, add_rules, delete_rules, update_rules,
                      share_server=None):
        return {rule["id"]: {"state": "active"} for rule in access_rules}

    def _update_share_stats(self, data=None):
        super()._update_share_stats({"qos": self.configuration is not None})
