"""Not collected by `make test`: a stand-in for a lane holding the GlusterFS lab, which
tests/test_glusterfs_lab.py runs as a child pytest and SIGTERMs (during `up` or while held)."""

from __future__ import annotations

import time

from certkit.lab.glusterfs import GlusterFSLab


def test_hold_the_glusterfs_lab(client_host_labs):
    client_host_labs.use(GlusterFSLab, "GlusterFS lab up (held for a SIGTERM)")
    print("holding the GlusterFS lab", flush=True)
    time.sleep(600)
