"""Logging for `certkit ci listen`: one line per event or failure, tracebacks only with --debug."""

from __future__ import annotations

import logging


def configure(level: str = "INFO", debug: bool = False) -> None:
    """Timestamped one-line records on stderr; paramiko's own tracebacks only with --debug.

    paramiko logs a multi-line traceback at ERROR for every failed handshake (Gerrit closing
    the connection, a reset): certkit already reports each failure in one line.
    """
    logging.basicConfig(level=logging.DEBUG if debug else getattr(logging, level),
                        format="%(asctime)s %(levelname)s %(message)s", force=True)
    logging.getLogger("paramiko").setLevel(logging.DEBUG if debug else logging.CRITICAL + 1)
