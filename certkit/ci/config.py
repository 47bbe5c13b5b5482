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
from certkit.schema_check import schema_errors

# Zuul's default recheck trigger in OpenDev (zuul/project-config, pipelines.yaml).
DEFAULT_RECHECK = r"(?i)^(Patch Set [0-9]+:)?( [\w\\+-]*)*(\n\n)?\s*recheck"
DEFAULT_LOG_URL = "file://{log_dir}"


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
        return not self.branches or any(p.fullmatch(branch or "") for p in self.branches)


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
    problems = schema_errors(data, "ci_config.schema.json", root="ci.yaml")
    if problems:
        raise CIConfigError(f"{path}: {problems[0].split(': ', 1)[1]}")
    return _build(Path(path), data)


def _regex(path: Path, field_name: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise CIConfigError(f"{path}: {field_name}: not a valid regular expression: {exc}") \
            from None


def _build(path: Path, data: dict[str, Any]) -> CIConfig:
    base = path.resolve().parent

    def local(value: str) -> Path:
        p = Path(os.path.expanduser(value))
        return p if p.is_absolute() else base / p

    g = data["gerrit"]
    gerrit = GerritConfig(host=g["host"], username=g["username"], key_file=local(g["key_file"]),
                          known_hosts=local(g["known_hosts"]), git_url=g["git_url"],
                          port=g.get("port", 29418), key_passphrase_env=g.get("key_passphrase_env"),
                          canonical_hostname=g.get("canonical_hostname", g["host"]),
                          web_url=g.get("web_url", f"https://{g['host']}"),
                          connect_timeout=g.get("connect_timeout", 10.0),
                          keepalive=g.get("keepalive", 30))
    for name, p in (("gerrit.key_file", gerrit.key_file), ("gerrit.known_hosts", gerrit.known_hosts)):
        if not p.is_file():
            raise CIConfigError(f"{path}: {name}: {p} does not exist")
    pl = data["pipeline"]
    projects = {}
    for i, item in enumerate(pl["projects"]):
        projects[item["name"]] = ProjectFilter(
            name=item["name"],
            branches=[_regex(path, f"pipeline.projects[{i}].branches", b)
                      for b in item.get("branches", [])],
            files=[_regex(path, f"pipeline.projects[{i}].files", f) for f in item.get("files", [])])
    pipeline = PipelineConfig(projects=projects, jobs=pl["jobs"], name=pl.get("name", "check"),
                              zuul_config=[local(d) for d in pl.get("zuul_config", [])],
                              recheck=_regex(path, "pipeline.recheck",
                                             pl.get("recheck", DEFAULT_RECHECK)),
                              concurrency=pl.get("concurrency", 2))
    for i, d in enumerate(pipeline.zuul_config):
        if not d.exists():
            raise CIConfigError(f"{path}: pipeline.zuul_config[{i}]: {d} does not exist")
    r = data.get("report", {})
    report = ReportConfig(mode=r.get("mode", "vote"), label=r.get("label", "Verified"),
                          log_url=r.get("log_url", DEFAULT_LOG_URL),
                          buildset_url=r.get("buildset_url", ""),
                          ci_accounts=r.get("ci_accounts", []))
    dashboard = None
    if "dashboard" in data:
        d = data["dashboard"]
        dashboard = DashboardConfig(url=d["url"], token_env=d.get("token_env",
                                                                  "CERTKIT_DASHBOARD_TOKEN"),
                                    ci_votes=d.get("ci_votes", True),
                                    account=d.get("account", gerrit.username))
    backoff = data.get("backoff", {})
    return CIConfig(path=path, gerrit=gerrit, pipeline=pipeline, report=report,
                    state_dir=local(data.get("state_dir", "certkit-ci-state")),
                    dashboard=dashboard, backoff_initial=backoff.get("initial", 1.0),
                    backoff_max=backoff.get("max", 60.0))
