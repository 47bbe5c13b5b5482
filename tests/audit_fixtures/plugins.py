"""A driver that delegates to layouts chosen by configuration (GlusterFS-style), and the
layouts it can load. Each layout is one back end; the base driver is not configurable."""

from __future__ import annotations

from certkit.manila_env import prepare_manila

prepare_manila()

from manila.share import driver  # noqa: E402

PREFIX = "tests.audit_fixtures.plugins"


class LayoutBase:
    """The plugin interface: stubs a layout may leave unimplemented."""

    shrink_support = False

    def create_share(self, context, share, share_server=None):
        raise NotImplementedError()

    def delete_share(self, context, share, share_server=None):
        raise NotImplementedError()

    def shrink_share(self, share, new_size, share_server=None):
        raise NotImplementedError()

    def create_snapshot(self, context, snapshot, share_server=None):
        raise NotImplementedError()


class FullLayout(LayoutBase):
    """Implements everything and turns the shrink gate on."""

    def __init__(self, drv, **kwargs):
        self.shrink_support = True

    def create_share(self, context, share, share_server=None):
        return []

    def delete_share(self, context, share, share_server=None):
        pass

    def shrink_share(self, share, new_size, share_server=None):
        pass

    def create_snapshot(self, context, snapshot):
        """Drops share_server, which the wrapper forwards: a delegate error."""


class PartialLayout(LayoutBase):
    """Shares only; shrink and snapshots stay the base's stubs."""

    def __init__(self, drv, **kwargs):
        pass

    def create_share(self, context, share, share_server=None):
        return []

    def delete_share(self, context, share, share_server=None):
        pass


class LayoutDriverBase(driver.ShareDriver):
    """Forwards to `self.layout`; with no supported layouts it cannot be configured."""

    LAYOUT_PREFIX = PREFIX
    supported_layouts: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(False, *args, **kwargs)
        self.layout = None
        self.shrink_support = getattr(self.layout, "shrink_support", False)

    def create_share(self, context, share, share_server=None):
        return self.layout.create_share(context, share, share_server=share_server)

    def delete_share(self, context, share, share_server=None):
        return self.layout.delete_share(context, share, share_server)

    def shrink_share(self, share, new_size, share_server=None):
        if self.shrink_support:
            return self.layout.shrink_share(share, new_size, share_server)
        raise NotImplementedError()

    def create_snapshot(self, context, snapshot, share_server=None):
        return self.layout.create_snapshot(context, snapshot, share_server=share_server)

    def delete_snapshot(self, context, snapshot, share_server=None):
        pass


class LayoutDriver(LayoutDriverBase):
    """Configurable: `glusterfs_share_layout` picks FullLayout or PartialLayout."""

    supported_layouts = ("FullLayout", "PartialLayout")
