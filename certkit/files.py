"""Writing output files safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from certkit.errors import CertkitError


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write text via a temporary file and rename: a crash never leaves a truncated file."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        raise CertkitError(f"{path}: cannot write: {exc.strerror or exc}") from None
