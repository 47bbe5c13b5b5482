"""Read Zuul configuration (zuul.yaml, .zuul.yaml, zuul.d/, .zuul.d/) and check it.

Checks follow Zuul's documented configuration (zuul/configloader.py): a file is a list of
one-key stanzas; a job's attributes are the ones Zuul documents, with their types. Errors name
the file, the line, the stanza and the attribute, in one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from certkit.errors import CertkitError

STANZAS = ("job", "project", "project-template", "nodeset", "secret", "semaphore", "queue",
           "pragma", "pipeline", "image", "flavor", "label", "section", "provider")

# Zuul's job attributes (zuul-ci.org/docs/zuul/latest/config/job.html) and the YAML types
# configloader.JobParser accepts for them.
_STR, _BOOL, _INT, _DICT, _LIST = (str,), (bool,), (int,), (dict,), (list,)
_STR_OR_LIST = (str, list)
JOB_ATTRIBUTES: dict[str, tuple[type, ...]] = {
    "name": _STR, "parent": (str, type(None)), "description": _STR, "final": _BOOL,
    "protected": _BOOL, "abstract": _BOOL, "intermediate": _BOOL, "success-message": _STR,
    "failure-message": _STR, "hold-following-changes": _BOOL, "voting": _BOOL,
    "semaphore": _STR, "semaphores": _STR_OR_LIST, "tags": _STR_OR_LIST,
    "provides": _STR_OR_LIST, "requires": _STR_OR_LIST, "secrets": _STR_OR_LIST,
    "nodeset": (str, dict, list), "timeout": _INT, "post-timeout": _INT, "attempts": _INT,
    "pre-run": _STR_OR_LIST, "post-run": _STR_OR_LIST, "cleanup-run": _STR_OR_LIST,
    "run": _STR_OR_LIST, "ansible-split-streams": _BOOL, "ansible-version": (str, int, float),
    "roles": _LIST, "required-projects": _STR_OR_LIST, "vars": _DICT, "extra-vars": _DICT,
    "host-vars": _DICT, "group-vars": _DICT, "allowed-projects": _STR_OR_LIST,
    "post-review": _BOOL, "branches": _STR_OR_LIST, "files": _STR_OR_LIST,
    "irrelevant-files": _STR_OR_LIST, "match-on-config-updates": _BOOL,
    "dependencies": _STR_OR_LIST, "include-vars": _STR_OR_LIST, "workspace-scheme": _STR,
    "deduplicate": (bool, str), "failure-output": _STR_OR_LIST, "override-checkout": _STR,
    "override-branch": _STR, "variant-description": _STR, "image-build-name": _STR,
    "workspace-checkout": (bool, str), "zuul": _DICT,
}
_PLAYBOOK_KEYS = {"name", "semaphore", "semaphores", "cleanup", "nodeset"}


class ZuulConfigError(CertkitError):
    """Zuul configuration a real Zuul would reject: file, line, stanza and the problem."""


class _Mapping(dict):
    """A YAML mapping that remembers its line (1-based)."""

    line = 0


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings carry the line they start on."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> _Mapping:
        mapping = _Mapping(super().construct_mapping(node, deep=deep))
        mapping.line = node.start_mark.line + 1
        return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                            _LineLoader.construct_mapping)


@dataclass(frozen=True)
class JobDefinition:
    """One `job` stanza (a job or a variant of it) and where it came from."""

    name: str
    attrs: dict[str, Any]
    source: "ConfigSource"
    path: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class ConfigSource:
    """A repository's Zuul configuration: its root (playbook paths are relative to it)."""

    root: Path
    files: list[Path] = field(default_factory=list)


@dataclass
class ZuulLayout:
    """Every stanza read from the configuration sources, in load order."""

    jobs: dict[str, list[JobDefinition]] = field(default_factory=dict)
    nodesets: dict[str, dict[str, Any]] = field(default_factory=dict)
    projects: list[dict[str, Any]] = field(default_factory=list)
    sources: list[ConfigSource] = field(default_factory=list)


def repository_root(config_dir: Path) -> Path:
    """The repository a configuration directory belongs to (nearest ancestor with .git)."""
    for candidate in (config_dir, *config_dir.parents):
        if (candidate / ".git").exists():
            return candidate
    return config_dir.parent if config_dir.name in ("zuul.d", ".zuul.d") else config_dir


def config_files(path: Path) -> list[Path]:
    """The YAML files Zuul reads from a directory, a repository root or a single file."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ZuulConfigError(f"{path}: no such Zuul configuration file or directory")
    if path.name in ("zuul.d", ".zuul.d") or not any(
            (path / n).exists() for n in ("zuul.yaml", ".zuul.yaml", "zuul.d", ".zuul.d")):
        return sorted(p for p in path.rglob("*.yaml") if p.is_file())
    for name in ("zuul.yaml", "zuul.d", ".zuul.yaml", ".zuul.d"):  # Zuul's own order
        candidate = path / name
        if candidate.exists():
            return config_files(candidate) if candidate.is_dir() else [candidate]
    return []


def load_layout(paths: list[Path]) -> ZuulLayout:
    """Read and check the configuration of every path; later sources may add variants."""
    layout = ZuulLayout()
    for path in paths:
        path = Path(path).resolve()
        source = ConfigSource(root=repository_root(path if path.is_dir() else path.parent))
        source.files = config_files(path)
        layout.sources.append(source)
        for file in source.files:
            _load_file(layout, source, file)
    return layout


def _load_file(layout: ZuulLayout, source: ConfigSource, file: Path) -> None:
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_LineLoader)
    except OSError as exc:
        raise ZuulConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else str(file)
        raise ZuulConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return
    if not isinstance(data, list):
        raise ZuulConfigError(f"{file}: a Zuul configuration file is a list of stanzas")
    for item in data:
        line = getattr(item, "line", 0)
        if not isinstance(item, dict) or len(item) != 1:
            raise ZuulConfigError(f"{file}:{line}: each stanza is a mapping with one key "
                                  f"({', '.join(STANZAS[:5])}, ...)")
        (kind, body), = item.items()
        if kind not in STANZAS:
            raise ZuulConfigError(f"{file}:{line}: unknown stanza {kind!r}")
        where = f"{file}:{getattr(body, 'line', line)}"
        if kind == "job":
            definition = check_job(body, file, where, source)
            _add_job(layout, definition)
        elif kind == "nodeset":
            nodeset = check_nodeset(body, where)
            layout.nodesets[nodeset["name"]] = plain(nodeset)
        elif kind in ("project", "project-template"):
            if not isinstance(body, dict):
                raise ZuulConfigError(f"{where}: {kind}: must be a mapping")
            layout.projects.append(body)


def _add_job(layout: ZuulLayout, definition: JobDefinition) -> None:
    existing = layout.jobs.setdefault(definition.name, [])
    if existing and existing[0].source is not definition.source:
        raise ZuulConfigError(
            f"{definition.where}: job {definition.name}: already defined in {existing[0].where}; "
            f"Zuul lets only the project that defines a job add variants of it")
    existing.append(definition)


def check_job(body: Any, file: Path, where: str, source: ConfigSource) -> JobDefinition:
    """Check one job stanza against Zuul's documented attributes and types."""
    if not isinstance(body, dict):
        raise ZuulConfigError(f"{where}: job: must be a mapping")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ZuulConfigError(f"{where}: job: 'name' is required and must be a string")
    for key, value in body.items():
        allowed = JOB_ATTRIBUTES.get(key)
        if allowed is None:
            raise ZuulConfigError(f"{where}: job {name}: unknown attribute {key!r} "
                                  f"(not one of Zuul's job attributes)")
        if isinstance(value, bool) and bool not in allowed:
            raise ZuulConfigError(f"{where}: job {name}: {key}: must be {_type_names(allowed)}")
        if not isinstance(value, allowed):
            raise ZuulConfigError(f"{where}: job {name}: {key}: must be {_type_names(allowed)}, "
                                  f"not {type(value).__name__}")
    for key in ("pre-run", "run", "post-run", "cleanup-run"):
        for playbook in as_list(body.get(key)):
            _check_playbook(playbook, f"{where}: job {name}: {key}")
    for key in ("timeout", "post-timeout", "attempts"):
        if key in body and body[key] <= 0:
            raise ZuulConfigError(f"{where}: job {name}: {key}: must be a positive integer")
    if "nodeset" in body and not isinstance(body["nodeset"], str):
        check_nodeset(body["nodeset"], f"{where}: job {name}: nodeset", anonymous=True)
    return JobDefinition(name=name, attrs=plain(body), source=source, path=file,
                         line=int(where.rsplit(":", 1)[1] or 0))


def _check_playbook(playbook: Any, where: str) -> None:
    if isinstance(playbook, str):
        return
    if isinstance(playbook, dict) and isinstance(playbook.get("name"), str):
        unknown = set(playbook) - _PLAYBOOK_KEYS
        if unknown:
            raise ZuulConfigError(f"{where}: unknown playbook attribute {sorted(unknown)[0]!r}")
        return
    raise ZuulConfigError(f"{where}: a playbook is a path or a mapping with 'name'")


def check_nodeset(body: Any, where: str, anonymous: bool = False) -> dict[str, Any]:
    """Check a nodeset: nodes [{name, label}] and groups [{name, nodes}]."""
    if isinstance(body, list):  # alternatives: Zuul tries each; locally the first is used
        if not body:
            raise ZuulConfigError(f"{where}: nodeset alternatives must not be empty")
        return check_nodeset(body[0], where, anonymous)
    if not isinstance(body, dict):
        raise ZuulConfigError(f"{where}: nodeset: must be a mapping")
    if not anonymous and not isinstance(body.get("name"), str):
        raise ZuulConfigError(f"{where}: nodeset: 'name' is required")
    unknown = set(body) - {"name", "nodes", "groups", "alternatives"}
    if unknown:
        raise ZuulConfigError(f"{where}: nodeset: unknown attribute {sorted(unknown)[0]!r}")
    names: set[str] = set()
    for node in as_list(body.get("nodes")):
        if not isinstance(node, dict) or "label" not in node or "name" not in node:
            raise ZuulConfigError(f"{where}: nodeset: each node needs 'name' and 'label'")
        names.update(as_list(node["name"]))
    for group in as_list(body.get("groups")):
        if not isinstance(group, dict) or "name" not in group:
            raise ZuulConfigError(f"{where}: nodeset: each group needs 'name' and 'nodes'")
        missing = set(as_list(group.get("nodes"))) - names
        if missing:
            raise ZuulConfigError(f"{where}: nodeset: group {group['name']} names unknown node "
                                  f"{sorted(missing)[0]!r}")
    return body


def plain(value: Any) -> Any:
    """Line-tracking mappings back to plain dicts (for YAML/JSON dumping)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def as_list(value: Any) -> list[Any]:
    """Zuul's "a string or a list of strings" attributes, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _type_names(types: tuple[type, ...]) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", dict: "a mapping",
             list: "a list", float: "a number", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in types)
