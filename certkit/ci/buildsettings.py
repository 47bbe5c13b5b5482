"""What a build is, apart from the job and the workspace: the fields a job request hands to its
build unchanged (`JobRequest` and `Build` both extend `BuildSettings`)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field, fields
from typing import Any, Callable

from certkit.ci.workspace import Change


def new_id() -> str:
    """A fresh Zuul-style build or buildset id."""
    return uuid.uuid4().hex


@dataclass(kw_only=True)
class BuildSettings:
    """The change, pipeline, ids, node variables, cancel event and start hook of one build."""

    change: Change | None = None
    pipeline: str = "check"
    buildset: str = field(default_factory=new_id)
    build: str = field(default_factory=new_id)
    node_vars: dict[str, Any] = field(default_factory=dict)
    cancel: threading.Event = field(default_factory=threading.Event)
    on_start: Callable[[], None] | None = None
    hidden_env: tuple[str, ...] = ()  # more variables to keep from playbooks (secrets)

    def build_settings(self) -> dict[str, Any]:
        """These fields as keyword arguments (the same objects, not copies)."""
        return {f.name: getattr(self, f.name) for f in fields(BuildSettings)}
