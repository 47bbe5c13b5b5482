"""Moved: the feature catalogue is `certkit.catalogue`, the ABC inspection `certkit.manila_abc`.

Kept only so that code written before the move still imports; new code imports the modules above.
"""

from certkit.catalogue import *  # noqa: F403 - re-exported unchanged
from certkit.manila_abc import (abc_method, abc_signature,  # noqa: F401 - re-exported
                                available_in_installed_manila, implements, missing_methods,
                                redefined_methods, share_driver_abc)
