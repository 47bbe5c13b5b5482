"""The `zuul` variable and the inventory, shaped as Zuul's executor hands them to playbooks."""

from __future__ import annotations

import base64
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certkit.ci.jobs import FrozenJob
from certkit.ci.unsafe import mark_unsafe
from certkit.ci.workspace import Change, Project


@dataclass(frozen=True)
class BuildContext:
    """Who, what and where of one build."""

    job: FrozenJob
    build: str
    buildset: str
    pipeline: str
    tenant: str
    project: Project
    projects: list[Project]
    change: Change | None
    work_root: Path
    log_root: Path
    attempt: int = 1


def zuul_variable(ctx: BuildContext) -> dict[str, Any]:
    """`zuul` as Zuul's executor builds it (zuul/executor/server.py, zuul/model.py)."""
    project = _project_entry(ctx.project)
    change = ctx.change
    zuul: dict[str, Any] = {
        "build": ctx.build, "buildset": ctx.buildset, "pipeline": ctx.pipeline,
        "job": ctx.job.name, "voting": ctx.job.voting, "tenant": ctx.tenant,
        "post_review": False, "jobtags": ctx.job.tags, "attempts": ctx.attempt,
        "max_attempts": ctx.job.attempts, "timeout": ctx.job.timeout,
        "post_timeout": ctx.job.post_timeout, "project": project,
        "branch": change.branch if change else ctx.project.branch,
        "ref": change.ref if change else f"refs/heads/{ctx.project.branch}",
        "projects": {p.canonical_name: _projects_entry(p) for p in ctx.projects},
        "child_jobs": [], "resources": {}, "event_id": ctx.buildset,
        "executor": {
            "hostname": socket.gethostname(), "src_root": str(ctx.work_root / "src"),
            "log_root": str(ctx.log_root), "work_root": str(ctx.work_root),
            "inventory_file": str(ctx.log_root / "zuul-info" / "inventory.yaml"),
            "result_data_file": str(ctx.work_root / "results.json"),
        },
    }
    if change:
        message = change.message or change.subject
        zuul.update({
            "change": str(change.number), "patchset": str(change.patchset),
            "change_url": change.url or "", "commit_id": change.revision or ctx.project.commit,
            "message": base64.b64encode(message.encode()).decode(),
            "change_message": message, "topic": change.topic,
        })
    item = {k: zuul[k] for k in ("branch", "change", "change_url", "patchset", "project")
            if k in zuul}
    zuul["items"] = [item]
    return zuul


def _project_entry(p: Project) -> dict[str, Any]:
    return {"name": p.name, "short_name": p.short_name, "canonical_hostname": p.canonical_hostname,
            "canonical_name": p.canonical_name, "src_dir": p.src_dir}


def _projects_entry(p: Project) -> dict[str, Any]:
    entry = _project_entry(p)
    entry.update({"required": p.required, "checkout": p.branch,
                  "checkout_description": "zuul branch", "commit": p.commit})
    return entry


def inventory(ctx: BuildContext, nodeset: dict[str, Any], node_vars: dict[str, Any],
              python: str) -> dict[str, Any]:
    """The inventory Zuul writes to zuul-info/inventory.yaml: nodes, groups, job vars + zuul.

    Locally each node is reached as `node_vars[name or label]` says; by default it is this
    machine through certkit_local (ansible's local connection, tasks running in the work root
    like on a Zuul node). host-vars go on the host, group-vars on the group, vars on all.
    """
    job = ctx.job
    hosts: dict[str, Any] = {}
    for node in nodeset.get("nodes", []):
        names = node["name"] if isinstance(node["name"], list) else [node["name"]]
        for name in names:
            connection = node_vars.get(name) or node_vars.get(node["label"]) or {
                "ansible_connection": "certkit_local", "ansible_python_interpreter": python}
            host = {**connection, "nodepool": {"label": node["label"], "provider": "certkit-local",
                                               "cloud": "local", "region": None,
                                               "az": None, "host_id": None,
                                               "interface_ip": connection.get("ansible_host",
                                                                              "127.0.0.1")}}
            host.update(job.host_vars.get(name, {}))
            hosts[name] = host
    children = {}
    for group in nodeset.get("groups", []):
        members = group["nodes"] if isinstance(group["nodes"], list) else [group["nodes"]]
        children[group["name"]] = {"hosts": {m: None for m in members},
                                   "vars": job.group_vars.get(group["name"], {})}
    all_vars = dict(job.vars)
    all_vars["zuul"] = zuul_variable(ctx)
    return {"all": {"hosts": hosts, "vars": all_vars, "children": children}}


def with_unsafe_zuul(inv: dict[str, Any]) -> dict[str, Any]:
    """The inventory with every string of the `zuul` variable marked !unsafe.

    All of it, not only the change's message as Zuul does: branch, topic, change URL, project
    names and the rest come from Gerrit too, and no playbook needs them templated.
    """
    all_group = dict(inv["all"])
    all_group["vars"] = {**all_group["vars"], "zuul": mark_unsafe(all_group["vars"]["zuul"])}
    return {**inv, "all": all_group}
