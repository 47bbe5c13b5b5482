"""Writing output files safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from certkit.errors import CertkitError


PRIVATE_MODE = 0o600
"""Files that can hold secrets (reports, profiles): owner only."""
PUBLIC_MODE = 0o644
"""Generated files meant to be served or shared (audit matrices): world-readable."""


def atomic_write(path: str | os.PathLike[str], text: str, mode: int = PRIVATE_MODE) -> None:
    """Write text via a temporary file and rename: a crash never leaves a truncated file. The
    file gets `mode` (0600 unless the caller says the content is public)."""
    target = Path(path)
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)  # a full disk leaves no half-written temporary file behind
        raise CertkitError(f"{path}: cannot write: {exc.strerror or exc}") from None
