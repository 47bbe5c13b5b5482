"""The job workspace: projects under src/<hostname>/<name>, and fetching a Gerrit change."""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from certkit.errors import CertkitError

MANILA_PROJECT = "openstack/manila"
_CHANGE_ARG = re.compile(r"^(\d+),(\d+)$")


class FetchError(CertkitError):
    """A change could not be fetched from Gerrit's git URL."""


@dataclass(frozen=True)
class Change:
    """A Gerrit patch set under test."""

    project: str
    number: int
    patchset: int
    branch: str = "master"
    revision: str | None = None
    url: str | None = None
    subject: str = ""
    message: str = ""
    topic: str | None = None

    @property
    def ref(self) -> str:
        """Gerrit's ref for the patch set: refs/changes/<NN>/<change>/<patchset>."""
        return change_ref(self.number, self.patchset)


@dataclass
class Project:
    """A repository checked out in the workspace."""

    canonical_hostname: str
    name: str
    path: Path
    commit: str | None = None
    branch: str = "master"
    required: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def canonical_name(self) -> str:
        return f"{self.canonical_hostname}/{self.name}"

    @property
    def src_dir(self) -> str:
        """Relative to the work root, as Zuul hands it to playbooks."""
        return f"src/{self.canonical_name}"

    @property
    def short_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]


# Gerrit's LocalDiskRepositoryManager.isUnreasonableName: a name Gerrit itself refuses. A project
# name becomes a path (src/<host>/<name>) and part of a git URL, so certkit refuses them too.
_UNREASONABLE = ("\\", "/../", "/./", "//", ".git/", "?", "%", "*", ":", "<", ">", "|", "$",
                 "\r", "/+", "~")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SUSPECT = re.compile("|".join([_CONTROL.pattern, *map(re.escape, _UNREASONABLE)]))


def unreasonable_project_name(name: str) -> str | None:
    """Why Gerrit would refuse this project name, or None when it is a reasonable one."""
    if not name:
        return "empty"
    if name.startswith("/") or name.endswith("/"):
        return "starts or ends with '/'"
    if name.startswith(("../", "./", "-")) or name in ("..", "."):
        return "starts with '..', '.' or '-'"
    if _SUSPECT.search(name):  # one regex on the hot path; the loop only names the reason
        if _CONTROL.search(name):
            return "holds a control character"
        for part in _UNREASONABLE:
            if part in name:
                return f"holds {part!r}"
    if name.endswith("/..") or name.endswith("/."):
        return "ends with '/..' or '/.'"
    return None


def check_project_name(name: str) -> str:
    """name, or CertkitError when Gerrit would refuse it (it becomes a path and a URL)."""
    why = unreasonable_project_name(name)
    if why:
        raise CertkitError(f"project {name!r}: not a Gerrit project name ({why})")
    return name


def change_ref(change: int, patchset: int) -> str:
    """refs/changes/45/12345/6 for change 12345, patch set 6."""
    return f"refs/changes/{change % 100:02d}/{change}/{patchset}"


def parse_change_arg(text: str) -> tuple[int, int]:
    """`--change 12345,6` -> (12345, 6)."""
    match = _CHANGE_ARG.match(text.strip())
    if not match:
        raise CertkitError(f"--change: expected CHANGE,PATCHSET (e.g. 12345,6), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def git(*args: str, cwd: Path | None = None, timeout: float = 600) -> str:
    """Run git with an argument list (never a shell); returns stdout, raises FetchError."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise FetchError(f"git {args[0]}: timed out after {timeout:.0f} s") from None
    except OSError as exc:
        raise FetchError(f"git: cannot run: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise FetchError(f"git {args[0]} failed: {detail}")
    return proc.stdout


def fetch_change(git_url: str, change: Change, dest: Path, *, attempts: int = 4,
                 delay: float = 1.0) -> str:
    """Fetch the change's ref into dest and check it out; returns the commit.

    Older Gerrit versions announce a patch set before its ref exists, so a missing ref is
    retried briefly before giving up.
    """
    url = f"{git_url.rstrip('/')}/{change.project}"
    dest.mkdir(parents=True, exist_ok=True)
    if not (dest / ".git").exists():
        git("init", "-q", str(dest))
    for attempt in range(attempts):
        try:
            git("fetch", "-q", "--no-tags", "--depth", "1", url, change.ref, cwd=dest)
            break
        except FetchError as exc:
            if attempt == attempts - 1:
                raise FetchError(f"{url} {change.ref}: {exc}") from None
            time.sleep(delay * (2 ** attempt))
    git("checkout", "-q", "--detach", "FETCH_HEAD", cwd=dest)
    commit = git("rev-parse", "HEAD", cwd=dest).strip()
    if change.revision and commit != change.revision:
        raise FetchError(f"{url} {change.ref}: fetched {commit[:12]}, but Gerrit announced "
                         f"revision {change.revision[:12]}")
    return commit


def head_commit(path: Path) -> str | None:
    """The checked-out commit of a git work tree, or None when it is not one."""
    try:
        return git("rev-parse", "HEAD", cwd=path, timeout=30).strip()
    except FetchError:
        return None
