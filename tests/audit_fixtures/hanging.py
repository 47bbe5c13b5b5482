"""A driver module whose import never finishes (a vendor SDK waiting on the network)."""

import time

time.sleep(120)
