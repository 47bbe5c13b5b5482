"""The listener's disk: work directories left by a crash, and a bound on logs + work.

Layout under state_dir: work/<build uuid>/ while a build runs (removed when it ends), and
logs/<NN>/<change>/<patchset>/<pipeline>/<job>/<build[:7]>/ for every build, kept until the
disk bound needs the room (oldest finished first).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger("certkit.ci")
LOG_DEPTH = 6  # NN/change/patchset/pipeline/job/build


def tree_size(path: Path) -> int:
    """Bytes of the regular files under path (symbolic links are not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def remove_work_dirs(work_root: Path) -> list[Path]:
    """Remove every build work directory (at start-up none can be in use); returns them."""
    removed = []
    if not work_root.is_dir():
        return removed
    for entry in sorted(work_root.iterdir()):
        size = tree_size(entry) if entry.is_dir() else 0
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        log.info("removed the work directory of interrupted build %s (%.1f MiB)", entry.name,
                 size / 2**20)
        removed.append(entry)
    return removed


def build_log_dirs(logs_root: Path) -> list[Path]:
    """Every build's log directory, oldest (by modification time) first."""
    if not logs_root.is_dir():
        return []
    dirs = [p for p in logs_root.glob("/".join(["*"] * LOG_DEPTH)) if p.is_dir()]
    return sorted(dirs, key=lambda p: p.stat().st_mtime)


def enforce_disk_limit(state_dir: Path, max_mb: int) -> list[Path]:
    """Remove the oldest finished builds' logs until logs + work fit in max_mb MiB."""
    limit = max_mb * 2**20
    work = state_dir / "work"
    running = {p.name[:7] for p in work.iterdir()} if work.is_dir() else set()
    total = tree_size(state_dir / "logs") + tree_size(work)
    removed: list[Path] = []
    if total <= limit:
        return removed
    for build_dir in build_log_dirs(state_dir / "logs"):
        if total <= limit:
            break
        if build_dir.name in running:
            continue
        size = tree_size(build_dir)
        shutil.rmtree(build_dir, ignore_errors=True)
        total -= size
        removed.append(build_dir)
        log.info("disk.max_mb %d: removed the logs of build %s (%.1f MiB)", max_mb,
                 build_dir.relative_to(state_dir / "logs"), size / 2**20)
        _prune_empty(build_dir.parent, state_dir / "logs")
    if total > limit:
        log.warning("disk.max_mb %d: %.0f MiB still in use by running builds", max_mb,
                    total / 2**20)
    return removed


def _prune_empty(path: Path, stop: Path) -> None:
    while path != stop and path.is_dir() and not any(path.iterdir()):
        path.rmdir()
        path = path.parent
