"""A driver class whose name could break Markdown and HTML output if not escaped."""

from certkit.manila_env import prepare_manila

prepare_manila()

from manila.share import driver  # noqa: E402


def _make():
    def __init__(self, *args, **kwargs):
        driver.ShareDriver.__init__(self, False, *args, **kwargs)

    cls = type("Evil", (driver.ShareDriver,), {"__init__": __init__})
    cls.__qualname__ = "Evil`|<b>x</b>``|Name"
    cls.__module__ = __name__
    return cls


Evil = _make()
