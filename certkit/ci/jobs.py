"""Resolve ("freeze") a Zuul job as Zuul does (zuul/model.py Job.inheritFrom/applyVariant).

Parent chain: each ancestor's matching variants are applied first, then the job's own. pre-run
runs parent first; post-run and cleanup-run child first; run is replaced by the child's. vars,
extra-vars, host-vars and group-vars are deep-merged with the child winning. An abstract job
cannot run; a final job cannot be inherited from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certkit.ci.zuulconfig import JobDefinition, ZuulConfigError, ZuulLayout, as_list

DEFAULT_NODESET = {"nodes": [{"name": "localhost", "label": "localhost"}], "groups": []}
DEFAULT_POST_TIMEOUT = 1800
_VAR_KEYS = ("vars", "extra-vars", "host-vars", "group-vars")
_SCALAR_KEYS = ("timeout", "post-timeout", "attempts", "voting", "nodeset", "description",
                "success-message", "failure-message", "override-checkout")


@dataclass(frozen=True)
class Playbook:
    """A playbook to run: its file, the repository it comes from and the job that added it."""

    path: Path
    job: str
    trusted: bool = False
    cleanup: bool = False  # post-run `cleanup: true`: runs even when the build is aborted


@dataclass
class FrozenJob:
    """A job ready to run: every attribute resolved through parents and variants."""

    name: str
    parents: list[str] = field(default_factory=list)
    pre_run: list[Playbook] = field(default_factory=list)
    run: list[Playbook] = field(default_factory=list)
    post_run: list[Playbook] = field(default_factory=list)
    cleanup_run: list[Playbook] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    extra_vars: dict[str, Any] = field(default_factory=dict)
    host_vars: dict[str, Any] = field(default_factory=dict)
    group_vars: dict[str, Any] = field(default_factory=dict)
    nodeset: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_NODESET))
    timeout: int | None = None
    post_timeout: int = DEFAULT_POST_TIMEOUT
    attempts: int = 3
    voting: bool = True
    tags: list[str] = field(default_factory=list)
    description: str = ""
    variants: list[str] = field(default_factory=list)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Zuul's Job._deepUpdate: dicts merge recursively, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def branch_matches(definition: JobDefinition, branch: str) -> bool:
    """A variant applies when it has no branch matcher or one of its regexes matches."""
    patterns = as_list(definition.attrs.get("branches"))
    if not patterns:
        return True
    return any(re.fullmatch(pattern, branch) or pattern == branch for pattern in patterns)


def freeze_job(layout: ZuulLayout, name: str, *, branch: str = "master") -> FrozenJob:
    """Resolve job `name` for a change on `branch`; refuses abstract jobs."""
    chain = _parent_chain(layout, name, branch)
    frozen = FrozenJob(name=name, parents=[d[0].name for d in chain[:-1]])
    for definitions in chain:
        for definition in definitions:
            _apply(frozen, definition)
    own = chain[-1]
    if any(d.attrs.get("abstract") for d in own):
        raise ZuulConfigError(f"{own[0].where}: job {name} is abstract and cannot run; "
                              f"run a job whose parent is {name}")
    if not frozen.run:
        raise ZuulConfigError(f"{own[0].where}: job {name} has no run playbook "
                              f"(neither it nor a parent sets 'run')")
    return frozen


def _parent_chain(layout: ZuulLayout, name: str, branch: str) -> list[list[JobDefinition]]:
    """Matching variants of each job from the root ancestor down to `name`."""
    chain: list[list[JobDefinition]] = []
    seen: list[str] = []
    current: str | None = name
    child_where = ""
    while current is not None:
        if current in seen:
            raise ZuulConfigError(f"{child_where}: job {seen[-1]}: inheritance loop "
                                  f"{' -> '.join(seen + [current])}")
        definitions = layout.jobs.get(current)
        if not definitions:
            if current == "base" and seen:  # a tenant's base job; locally an empty one
                break
            where = f"{child_where}: " if child_where else ""
            raise ZuulConfigError(f"{where}job {current!r} is not defined in "
                                  f"{', '.join(str(s.root) for s in layout.sources) or 'any source'}")
        matching = [d for d in definitions if branch_matches(d, branch)]
        if not matching:
            raise ZuulConfigError(f"{definitions[0].where}: job {current} has no variant "
                                  f"for branch {branch!r}")
        if seen and any(d.attrs.get("final") for d in definitions):
            raise ZuulConfigError(f"{child_where}: job {seen[-1]}: cannot inherit from final "
                                  f"job {current}")
        chain.append(matching)
        seen.append(current)
        child_where = matching[0].where
        # The reference definition (first variant) names the parent, as in Zuul.
        current = definitions[0].attrs.get("parent", "base" if current != "base" else None)
    chain.reverse()
    return chain


def _apply(frozen: FrozenJob, definition: JobDefinition) -> None:
    attrs = definition.attrs
    root = definition.source.root

    def playbooks(key: str) -> list[Playbook]:
        return [Playbook(path=root / (p if isinstance(p, str) else p["name"]), job=definition.name,
                         cleanup=key == "cleanup-run" or (isinstance(p, dict)
                                                          and bool(p.get("cleanup"))))
                for p in as_list(attrs.get(key))]

    frozen.pre_run = frozen.pre_run + playbooks("pre-run")
    frozen.post_run = playbooks("post-run") + frozen.post_run
    frozen.cleanup_run = playbooks("cleanup-run") + frozen.cleanup_run
    if attrs.get("run"):
        frozen.run = playbooks("run")
    frozen.vars = deep_merge(frozen.vars, attrs.get("vars") or {})
    frozen.extra_vars = deep_merge(frozen.extra_vars, attrs.get("extra-vars") or {})
    frozen.host_vars = deep_merge(frozen.host_vars, attrs.get("host-vars") or {})
    frozen.group_vars = deep_merge(frozen.group_vars, attrs.get("group-vars") or {})
    frozen.tags = sorted(set(frozen.tags) | set(as_list(attrs.get("tags"))))
    if "timeout" in attrs:
        frozen.timeout = attrs["timeout"]
    if "post-timeout" in attrs:
        frozen.post_timeout = attrs["post-timeout"]
    if "attempts" in attrs:
        frozen.attempts = attrs["attempts"]
    if "voting" in attrs:
        frozen.voting = attrs["voting"]
    if "description" in attrs:
        frozen.description = attrs["description"]
    if "nodeset" in attrs:
        frozen.nodeset = attrs["nodeset"]
    frozen.variants.append(definition.where)


def resolve_nodeset(layout: ZuulLayout, frozen: FrozenJob) -> dict[str, Any]:
    """The job's nodeset as a mapping (a name refers to a `nodeset` stanza)."""
    nodeset = frozen.nodeset
    if isinstance(nodeset, list):
        nodeset = nodeset[0]
    if isinstance(nodeset, str):
        if nodeset not in layout.nodesets:
            raise ZuulConfigError(f"job {frozen.name}: nodeset {nodeset!r} is not defined")
        nodeset = layout.nodesets[nodeset]
    if not as_list(nodeset.get("nodes")):
        return dict(DEFAULT_NODESET)
    return nodeset


def list_jobs(layout: ZuulLayout) -> list[tuple[str, bool, str]]:
    """(name, abstract, description) for every job, for `certkit ci jobs`."""
    out = []
    for name, definitions in sorted(layout.jobs.items()):
        attrs = definitions[0].attrs
        out.append((name, bool(attrs.get("abstract")), str(attrs.get("description", "")).strip()))
    return out
