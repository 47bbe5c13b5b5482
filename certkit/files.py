"""Writing output files safely, and refusing outputs that would destroy something."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Mapping

from certkit.errors import CertkitError


PRIVATE_MODE = 0o600
"""Files that can hold secrets (reports, profiles): owner only."""
PUBLIC_MODE = 0o644
"""Generated files meant to be served or shared (audit matrices): world-readable."""


def atomic_write(path: str | os.PathLike[str], text: str, mode: int = PRIVATE_MODE) -> None:
    """Write text via a temporary file and rename: a crash never leaves a truncated file. The
    file gets `mode` (0600 unless the caller says the content is public)."""
    target = Path(path)
    if target.exists() and not target.is_file():
        raise CertkitError(f"{path}: cannot write: not a regular file")
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


def check_output_paths(outputs: Mapping[str, str | os.PathLike[str] | None],
                       inputs: Mapping[str, str | os.PathLike[str]]) -> None:
    """Refuse, before any work, outputs that would destroy something: an existing non-regular
    file (a device, a directory, a FIFO), an input, or the same file as another output.

    `outputs` and `inputs` map an option name (`--report`) to a path; CertkitError names both.
    """
    seen: dict[str, str] = {}
    identities = {_identity(path): option for option, path in inputs.items()}
    for option, path in outputs.items():
        if path is None:
            continue
        target = Path(path)
        if target.exists() and not target.is_file():
            kind = "a directory" if target.is_dir() else "not a regular file"
            raise CertkitError(f"{option} {path}: is {kind}; refusing to write over it")
        identity = _identity(path)
        if identity in identities:
            raise CertkitError(f"{option} {path}: is the {identities[identity]} file; refusing to "
                               "write over it")
        if identity in seen:
            raise CertkitError(f"{option} {path}: is also the {seen[identity]} output; give each "
                               "output its own path")
        seen[identity] = option


def _identity(path: str | os.PathLike[str]) -> str:
    """The same string for two paths that name the same file (links, `..`, symlinks)."""
    target = Path(path)
    try:
        info = target.stat()
        return f"inode:{info.st_dev}:{info.st_ino}"
    except OSError:
        return f"path:{target.resolve()}"
