"""Import Manila quietly and once: warnings filters, oslo.config and logging set-up."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def prepare_manila() -> str:
    """Make `import manila...` safe and quiet in this process; returns Manila's version."""
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from manila.common import config  # noqa: F401  registers the global options drivers read
    from oslo_config import cfg

    if not cfg.CONF._args and not getattr(cfg.CONF, "_namespace", None):
        parse_conf([])
    for noisy in ("manila", "oslo", "oslo_concurrency", "stevedore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    run_privileged_in_process()
    return manila_version()


def run_privileged_in_process() -> None:
    """Drivers' oslo.privsep steps (GlusterFS's mkdir and mount, LVM's, ZFS's) run in this
    process when it is root: privsep would otherwise start its helper through `sudo
    privsep-helper`, which a certification host need not have (the live tier's manila-share, a
    separate process, is given the venv's helper instead: livestack.manila_services). Not root:
    left to privsep."""
    if os.geteuid() == 0:
        from manila import privsep

        privsep.sys_admin_pctxt.set_client_mode(False)


def manila_version() -> str:
    """The installed Manila's version string."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("manila")
    except PackageNotFoundError:
        return "unknown"


def parse_conf(config_files: list[str]) -> None:
    """(Re)parse Manila's global CONF from these files.

    Options some imported driver module marks required (e.g. ZFSonLinux's export IP) are the
    business of that driver, not of this process: oslo.config checks them after parsing, so the
    parsed values stand when that check complains.
    """
    from oslo_config import cfg

    try:
        cfg.CONF(args=[], project="manila", default_config_files=config_files,
                 default_config_dirs=[])
    except cfg.RequiredOptError:
        pass


def scripts_dir() -> Path:
    """The bin directory of the Python certkit runs under: manila-* services, tempest and stestr
    are installed there with certkit."""
    return Path(sys.executable).parent
