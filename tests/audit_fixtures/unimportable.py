"""A driver module whose vendor SDK is missing."""

import acme_storage_sdk  # noqa: F401  (deliberately absent)

from manila.share import driver


class AcmeDriver(driver.ShareDriver):
    pass
