"""Manila versions to release series, in the catalogue's naming (19.1.0 -> 2024.2 Dalmatian)."""

from __future__ import annotations

import re

from certkit.catalogue import RELEASES

_ORDER = {name: number for number, name in RELEASES.items()}


def release_of(manila_version: str) -> str:
    """The series of a Manila version; unknown majors become `manila N`."""
    match = re.match(r"\s*(\d+)", manila_version or "")
    if not match:
        return "unknown"
    major = int(match.group(1))
    return RELEASES.get(major, f"manila {major}")


def release_key(release: str) -> int:
    """Sort key: the Manila major version of a series (unknown last-but-sorted)."""
    if release in _ORDER:
        return _ORDER[release]
    match = re.match(r"manila (\d+)$", release)
    return int(match.group(1)) if match else -1


def newest_first(releases: set[str] | list[str]) -> list[str]:
    """Releases, newest first."""
    return sorted(set(releases), key=release_key, reverse=True)
