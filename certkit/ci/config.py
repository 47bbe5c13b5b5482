"""ci.yaml: the listener's one configuration file, validated with one-line errors.

Secrets never live in the file: the SSH key's passphrase and the dashboard token are read
from the environment variables the file names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from certkit.errors import CertkitError
from certkit.schema_check import load_schema, schema_errors

# Zuul's default recheck trigger in OpenDev (zuul/project-config, pipelines.yaml).
DEFAULT_RECHECK = r"(?i)^(Patch Set [0-9]+:)?( [\w\\+-]*)*(\n\n)?\s*recheck"
DEFAULT_LOG_URL = "file://{log_dir}"
SCHEMA = "ci_config.schema.json"


class CIConfigError(CertkitError):
    """ci.yaml is unusable: names the file and the field."""


@dataclass
class GerritConfig:
    host: str
    username: str
    key_file: Path
    known_hosts: Path
    git_url: str
    port: int = 29418
    key_passphrase_env: str | None = None
    canonical_hostname: str = ""
    web_url: str = ""
    connect_timeout: float = 10.0
    keepalive: int = 30

    @property
    def key_passphrase(self) -> str | None:
        return os.environ.get(self.key_passphrase_env) if self.key_passphrase_env else None


@dataclass
class ProjectFilter:
    name: str
    branches: list[re.Pattern[str]] = field(default_factory=list)
    files: list[re.Pattern[str]] = field(default_factory=list)

    def branch_matches(self, branch: str | None) -> bool:
        """Zuul's BranchMatcher: a regular expression matched at the start (re.match)."""
        return not self.branches or any(p.match(branch or "") for p in self.branches)

    def file_matches(self, files: list[str]) -> bool:
        """Zuul's FileMatcher: some file matches some expression at its start (re.match)."""
        return not self.files or any(p.match(f) for p in self.files for f in files
                                     if f not in ("/COMMIT_MSG", "/MERGE_LIST"))


@dataclass
class PipelineConfig:
    projects: dict[str, ProjectFilter]
    jobs: list[str]
    name: str = "check"
    zuul_config: list[Path] = field(default_factory=list)
    recheck: re.Pattern[str] = field(default_factory=lambda: re.compile(DEFAULT_RECHECK))
    concurrency: int = 2


@dataclass
class ReportConfig:
    mode: str = "vote"
    label: str = "Verified"
    log_url: str = DEFAULT_LOG_URL
    buildset_url: str = ""
    ci_accounts: list[str] = field(default_factory=list)
    retry_initial: float = 10.0
    retry_max: float = 600.0
    give_up_after: float = 6 * 3600.0


@dataclass
class DashboardConfig:
    url: str
    token_env: str = "CERTKIT_DASHBOARD_TOKEN"
    ci_votes: bool = True
    account: str = ""

    @property
    def token(self) -> str | None:
        return os.environ.get(self.token_env)


@dataclass
class CIConfig:
    path: Path
    gerrit: GerritConfig
    pipeline: PipelineConfig
    report: ReportConfig
    state_dir: Path
    dashboard: DashboardConfig | None = None
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    disk_max_mb: int = 20480


def load_ci_config(path: Path) -> CIConfig:
    """Read and validate ci.yaml; every problem is a one-line CIConfigError."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CIConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise CIConfigError(f"{path}: {where}not valid YAML: {getattr(exc, 'problem', exc)}") \
            from None
    problems = schema_errors(data, SCHEMA, root="ci.yaml")
    if problems:
        raise CIConfigError(f"{path}: {problems[0].split(': ', 1)[1]}")
    return _build(Path(path), data)


def _regex(path: Path, field_name: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise CIConfigError(f"{path}: {field_name}: not a valid regular expression: {exc}") \
            from None


def schema_default(*keys: str) -> Any:
    """The `default` ci_config.schema.json gives a key (the schema is the key reference)."""
    node: dict[str, Any] = load_schema(SCHEMA)
    for key in keys:
        node = node["properties"][key]
        if node.get("type") == "array" and "items" in node and key != keys[-1]:
            node = node["items"]
    return node["default"]


class _Section:
    """A config section whose missing keys take the schema's defaults."""

    def __init__(self, data: dict[str, Any], *where: str) -> None:
        self.data, self.where = data, where

    def __getitem__(self, key: str) -> Any:
        return self.data[key] if key in self.data else schema_default(*self.where, key)


def _build(path: Path, data: dict[str, Any]) -> CIConfig:
    base = path.resolve().parent

    def local(value: str) -> Path:
        p = Path(os.path.expanduser(value))
        return p if p.is_absolute() else base / p

    g = _Section(data["gerrit"], "gerrit")
    gerrit = GerritConfig(host=g["host"], username=g["username"], key_file=local(g["key_file"]),
                          known_hosts=local(g["known_hosts"]), git_url=g["git_url"],
                          port=g["port"], key_passphrase_env=g.data.get("key_passphrase_env"),
                          canonical_hostname=g.data.get("canonical_hostname", g["host"]),
                          web_url=g.data.get("web_url", f"https://{g['host']}"),
                          connect_timeout=g["connect_timeout"], keepalive=g["keepalive"])
    for name, p in (("gerrit.key_file", gerrit.key_file), ("gerrit.known_hosts", gerrit.known_hosts)):
        if not p.is_file():
            raise CIConfigError(f"{path}: {name}: {p} does not exist")
    pl = _Section(data["pipeline"], "pipeline")
    projects = {}
    for i, item in enumerate(pl["projects"]):
        projects[item["name"]] = ProjectFilter(
            name=item["name"],
            branches=[_regex(path, f"pipeline.projects[{i}].branches", b)
                      for b in item.get("branches", [])],
            files=[_regex(path, f"pipeline.projects[{i}].files", f) for f in item.get("files", [])])
    pipeline = PipelineConfig(projects=projects, jobs=pl["jobs"], name=pl["name"],
                              zuul_config=[local(d) for d in pl["zuul_config"]],
                              recheck=_regex(path, "pipeline.recheck", pl["recheck"]),
                              concurrency=pl["concurrency"])
    for i, d in enumerate(pipeline.zuul_config):
        if not d.exists():
            raise CIConfigError(f"{path}: pipeline.zuul_config[{i}]: {d} does not exist")
    r = _Section(data.get("report", {}), "report")
    report = ReportConfig(mode=r["mode"], label=r["label"], log_url=r["log_url"],
                          buildset_url=r["buildset_url"], ci_accounts=r["ci_accounts"],
                          retry_initial=r["retry_initial"], retry_max=r["retry_max"],
                          give_up_after=r["give_up_after"])
    dashboard = None
    if "dashboard" in data:
        d = _Section(data["dashboard"], "dashboard")
        dashboard = DashboardConfig(url=d["url"], token_env=d["token_env"],
                                    ci_votes=d["ci_votes"],
                                    account=d.data.get("account", gerrit.username))
    backoff = _Section(data.get("backoff", {}), "backoff")
    return CIConfig(path=path, gerrit=gerrit, pipeline=pipeline, report=report,
                    state_dir=local(data.get("state_dir", schema_default("state_dir"))),
                    dashboard=dashboard, backoff_initial=backoff["initial"],
                    backoff_max=backoff["max"],
                    disk_max_mb=_Section(data.get("disk", {}), "disk")["max_mb"])
