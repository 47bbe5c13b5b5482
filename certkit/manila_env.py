"""Import Manila quietly and once: warnings filters, oslo.config and logging set-up."""

from __future__ import annotations

import logging
import warnings
from functools import lru_cache


@lru_cache(maxsize=None)
def prepare_manila() -> str:
    """Make `import manila...` safe and quiet in this process; returns Manila's version."""
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from manila.common import config  # noqa: F401  registers the global options drivers read
    from oslo_config import cfg

    if not cfg.CONF._args and not getattr(cfg.CONF, "_namespace", None):
        cfg.CONF([], project="manila", default_config_files=[], default_config_dirs=[])
    for noisy in ("manila", "oslo", "oslo_concurrency", "stevedore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return manila_version()


def manila_version() -> str:
    """The installed Manila's version string."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("manila")
    except PackageNotFoundError:
        return "unknown"
