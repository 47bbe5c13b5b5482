"""Gerrit stream events: parse one line, decide whether it triggers a buildset.

Gerrit documents that any field may be missing: every access here tolerates that and an event
that cannot be used is ignored with a one-line reason, never an exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from certkit.ci.config import PipelineConfig
from certkit.ci.logline import oneline
from certkit.ci.workspace import Change, unreasonable_project_name


_REVISION = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256, as Gerrit writes it


class EventError(ValueError):
    """A line that is not a usable Gerrit event (the message is one line)."""


@dataclass(frozen=True)
class Trigger:
    """A reason to run the pipeline's jobs for one patch set."""

    kind: str  # "patchset-created" or "recheck"
    change: Change
    key: str  # dedupe key: one buildset per key, ever
    event_time: int


def parse_event(line: str) -> dict[str, Any]:
    """One stream-events line as a dict with a string `type`; EventError otherwise."""
    text = line.strip()
    if not text:
        raise EventError("empty line")
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise EventError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise EventError("not a Gerrit event (no 'type')")
    return event


def event_time(event: dict[str, Any]) -> int | None:
    value = event.get("eventCreatedOn")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def event_int(value: Any) -> int | None:
    """An event's number field (int or digit string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def change_of(event: dict[str, Any]) -> Change:
    """The change and patch set an event is about; EventError when fields are missing."""
    change = event.get("change")
    patchset = event.get("patchSet")
    if not isinstance(change, dict) or not isinstance(patchset, dict):
        raise EventError("no change or patchSet")
    number, ps = event_int(change.get("number")), event_int(patchset.get("number"))
    project, branch = change.get("project"), change.get("branch")
    if number is None or ps is None or not isinstance(project, str) or not isinstance(branch, str):
        raise EventError("change without project, branch, number or patch set number")
    if number < 1 or ps < 1:
        raise EventError(f"change {number},{ps}: numbers must be positive")
    why = unreasonable_project_name(project)
    if why:
        raise EventError(f"project name {oneline(project, 60)} {why}")
    revision = patchset.get("revision")
    if revision is not None and not (isinstance(revision, str) and _REVISION.fullmatch(revision)):
        raise EventError(f"patch set revision {oneline(revision, 50)} is not a commit id")
    commit_message = change.get("commitMessage")
    return Change(project=project, number=number, patchset=ps, branch=branch,
                  revision=revision if isinstance(revision, str) else None,
                  url=change.get("url") if isinstance(change.get("url"), str) else None,
                  subject=str(change.get("subject") or ""),
                  message=commit_message if isinstance(commit_message, str) else "",
                  topic=change.get("topic") if isinstance(change.get("topic"), str) else None)


def author_of(event: dict[str, Any]) -> str:
    author = event.get("author")
    if isinstance(author, dict):
        return str(author.get("username") or author.get("email") or author.get("name") or "")
    return ""


def trigger_for(event: dict[str, Any], pipeline: PipelineConfig, own_account: str) \
        -> tuple[Trigger | None, str]:
    """(Trigger, "") when the event starts a buildset, else (None, why not).

    The reason holds raw event values: the caller escapes it when it logs it. Events of other
    projects (most of a busy stream) are dropped before the change is validated.
    """
    kind = event["type"]
    if kind not in ("patchset-created", "comment-added"):
        return None, f"{kind} does not trigger"
    raw = event.get("change")
    name = raw.get("project") if isinstance(raw, dict) else None
    if isinstance(name, str) and name not in pipeline.projects:
        return None, f"project {name} not configured"
    change = change_of(event)
    project = pipeline.projects[change.project]
    if not project.branch_matches(change.branch):
        return None, f"branch {change.branch} of {change.project} does not match the branches filter"
    when = event_time(event) or 0
    base = f"{change.project}:{change.number}:{change.patchset}"
    if kind == "patchset-created":
        return Trigger("patchset-created", change, f"{base}:patchset-created", when), ""
    if author_of(event) == own_account:
        return None, "our own comment"
    comment = event.get("comment")
    if not isinstance(comment, str) or not pipeline.recheck.search(comment):
        return None, "comment is not a recheck"
    return Trigger("recheck", change, f"{base}:recheck:{when}:{author_of(event)}", when), ""
