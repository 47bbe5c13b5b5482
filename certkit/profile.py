"""Driver profiles: load a YAML file, validate it, substitute secrets from the environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from certkit.catalogue import FEATURES_BY_ID, Feature
from certkit.dotted import DottedImportError, import_dotted
from certkit.errors import ProfileError
from certkit.deadlines import CallTimeout, call_with_alarm
from certkit.redaction import redact_text
from certkit.schema_check import json_path, validator_for
from certkit.text import one_line

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_KEY = re.compile(r"(pass(word|wd)?|secret|token|key|credential)", re.IGNORECASE)
_NOT_SECRET_KEY = re.compile(r"(keyring_name|key_ref|_key_id$|^keystone)", re.IGNORECASE)

MAX_PROFILE_BYTES = 256 * 1024
"""A profile is a page of YAML; anything bigger is a mistake or an attack."""
MAX_YAML_NODES = 20_000
"""Nodes a profile may hold once YAML aliases are expanded (a "billion laughs" file holds 10^9)."""
DEFAULT_TIMEOUTS = {"check": 60.0, "api_check": 300.0, "cleanup": 30.0, "status_poll": 60.0,
                    "import": 60.0}


@dataclass(frozen=True)
class Profile:
    """A validated driver profile."""

    path: str
    name: str
    vendor: str
    driver: str
    dhss_modes: tuple[bool, ...]
    protocols: tuple[str, ...]
    access_types: Mapping[str, tuple[str, ...]]
    access_levels: tuple[str, ...]
    config: Mapping[str, Any]
    features: tuple[str, ...]
    """Features listed explicitly in the profile."""
    raw: Mapping[str, Any]
    secrets: frozenset[str] = field(default=frozenset())
    """Values that must never appear in logs or reports."""

    @property
    def dhss(self) -> bool:
        """The DHSS mode certified in this run (the first listed)."""
        return self.dhss_modes[0]

    @property
    def claimed(self) -> frozenset[str]:
        """Every claimed feature: listed ones plus those implied by protocols/access/DHSS keys."""
        derived = {f"access_{t}" for types in self.access_types.values() for t in types}
        if "ro" in self.access_levels:
            derived.add("access_ro")
        if True in self.dhss_modes:
            derived.add("share_servers")
        return frozenset(self.features) | derived

    def claims(self, feature_id: str) -> bool:
        """Whether the profile claims a feature."""
        return feature_id in self.claimed

    @property
    def timeouts(self) -> Mapping[str, float]:
        """Per-check, cleanup and status-poll timeouts in seconds."""
        return {**DEFAULT_TIMEOUTS, **self.raw.get("timeouts", {})}

    @property
    def share_size_gb(self) -> int:
        """Size of the shares the suites create."""
        return int(self.raw.get("share_size_gb", 1))

    @property
    def concurrency(self) -> int:
        """How many shares the concurrency check handles at once."""
        return int(self.raw.get("concurrency", 8))

    @property
    def scale(self) -> Mapping[str, Any]:
        """The scale suite's settings (`scale:` block), with defaults filled in."""
        block = dict(self.raw.get("scale") or {})
        target = int(block.get("target_shares", SCALE_TARGET_DEFAULT))
        steps = list(block.get("steps") or [n for n in SCALE_STEPS_DEFAULT if n < target])
        if not steps or steps[-1] != target:
            steps.append(target)
        return {"target_shares": target, "steps": steps,
                "rules_per_share": int(block.get("rules_per_share", 500)),
                "concurrency": int(block.get("concurrency", self.concurrency)),
                "samples": int(block.get("samples", 20))}

    @property
    def client_hosts(self) -> list[Mapping[str, Any]]:
        """Client hosts of the data-path suite."""
        return list(self.raw.get("client_hosts", []))

    def redact(self, text: str) -> str:
        """Replace every secret value in a text with `***` (see certkit.redaction)."""
        return redact_text(text, self.secrets)


def load_profile(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None,
                 check_import: bool = True) -> Profile:
    """Load and validate a profile; any problem raises ProfileError(file, field, problem)."""
    path_s = str(path)
    env = os.environ if environ is None else environ
    data = _read_yaml(path_s)
    _validate_schema(path_s, data)
    _validate_features(path_s, data)
    _validate_scale(path_s, data.get("scale") or {})
    # ${PROFILE_DIR} names the profile's own directory, for paths next to the profile.
    env = {"PROFILE_DIR": str(Path(path_s).resolve().parent), **env}
    config, secrets = _substitute_env(path_s, data.get("config") or {}, env)
    hosts, _ = _substitute_env(path_s, {str(i): h for i, h in enumerate(data.get("client_hosts") or [])},
                               env, prefix="client_hosts", escape=False)
    data = {**data, "client_hosts": [hosts[str(i)] for i in range(len(hosts))]}
    if check_import:
        timeout = (data.get("timeouts") or {}).get("import", DEFAULT_TIMEOUTS["import"])
        import_driver_class(data["driver"], path_s, timeout=timeout)
    dhss = data["driver_handles_share_servers"]
    modes = tuple(dhss) if isinstance(dhss, list) else (dhss,)
    access_types = {p: tuple(t) for p, t in (data.get("access_types") or {}).items()}
    for proto in access_types:
        if proto not in data["protocols"]:
            raise ProfileError(path_s, f"access_types.{proto}",
                               f"protocol {proto} is not listed in protocols")
    return Profile(
        path=path_s, name=data["name"], vendor=data["vendor"], driver=data["driver"],
        dhss_modes=modes, protocols=tuple(data["protocols"]), access_types=access_types,
        access_levels=tuple(data.get("access_levels") or ("rw",)), config=config,
        features=tuple(data.get("features") or ()), raw=data, secrets=frozenset(secrets),
    )


def import_driver_class(dotted: str, source: str = "driver",
                        timeout: float | None = DEFAULT_TIMEOUTS["import"]) -> type:
    """Import a driver class from its dotted path within `timeout` seconds; ProfileError names
    what failed (a module that hangs on import is abandoned in a daemon thread)."""
    from certkit.manila_env import prepare_manila

    prepare_manila()
    try:
        cls = call_with_alarm(import_dotted, timeout, f"import {dotted}", dotted)
    except CallTimeout:
        raise ProfileError(source, "driver", f"importing module {dotted.rpartition('.')[0]} did "
                           f"not finish within {timeout:.3g} s (timeouts.import)") from None
    except DottedImportError as exc:
        raise ProfileError(source, "driver", str(exc)) from None
    if not isinstance(cls, type):
        raise ProfileError(source, "driver", f"{dotted} is not a class")
    return cls


def _read_yaml(path: str) -> dict[str, Any]:
    try:
        if os.path.exists(path) and not os.path.isdir(path) and not os.path.isfile(path):
            raise ProfileError(path, "", "is not a regular file")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_PROFILE_BYTES + 1)
        if len(raw) > MAX_PROFILE_BYTES:
            raise ProfileError(path, "", f"is larger than {MAX_PROFILE_BYTES // 1024} KiB; "
                               "a profile is a page of YAML")
        data = _load_bounded(raw.decode("utf-8"), path)
    except FileNotFoundError:
        raise ProfileError(path, "", "no such file") from None
    except IsADirectoryError:
        raise ProfileError(path, "", "is a directory, not a profile file") from None
    except OSError as exc:
        raise ProfileError(path, "", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(path, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProfileError(path, where, f"invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ProfileError(path, "", f"must be a mapping of keys, got {type(data).__name__}")
    return data


def _load_bounded(text: str, path: str) -> Any:
    """yaml.safe_load, refusing documents whose aliases expand beyond MAX_YAML_NODES nodes."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        sizes: dict[int, int] = {}

        def expanded(n: yaml.Node, depth: int = 0) -> int:
            if id(n) in sizes:
                return sizes[id(n)]
            if depth > 100:
                raise ProfileError(path, "", "nested more than 100 levels deep")
            sizes[id(n)] = MAX_YAML_NODES + 1  # a node that contains itself is too big
            if isinstance(n, yaml.MappingNode):
                total = 1 + sum(expanded(k, depth + 1) + expanded(v, depth + 1) for k, v in n.value)
            elif isinstance(n, yaml.SequenceNode):
                total = 1 + sum(expanded(v, depth + 1) for v in n.value)
            else:
                total = 1
            sizes[id(n)] = min(total, MAX_YAML_NODES + 1)
            return sizes[id(n)]

        if expanded(node) > MAX_YAML_NODES:
            raise ProfileError(path, "", f"expands to more than {MAX_YAML_NODES} YAML nodes "
                               "(aliases repeated too often?)")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _validate_schema(path: str, data: Mapping[str, Any]) -> None:
    errors = sorted(validator_for("profile.schema.json").iter_errors(data),
                    key=lambda e: (list(e.absolute_path), e.message))
    if not errors:
        return
    err = errors[0]
    field_path = json_path(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        parent = f"{field_path}." if field_path else ""
        raise ProfileError(path, f"{parent}{extra[0]}",
                           f"unknown key (allowed: {', '.join(allowed)})")
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        parent = f"{field_path}." if field_path else ""
        raise ProfileError(path, f"{parent}{missing}", "required key is missing")
    raise ProfileError(path, field_path, one_line(err.message, 160))


def _validate_features(path: str, data: Mapping[str, Any]) -> None:
    for index, feature_id in enumerate(data.get("features") or ()):
        feat: Feature | None = FEATURES_BY_ID.get(feature_id)
        if feat is None:
            close = [f for f in FEATURES_BY_ID if f.split("_")[0] == feature_id.split("_")[0]]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ProfileError(path, f"features[{index}]",
                               f"unknown feature {feature_id!r}{hint} (see `certkit features`)")
        if feat.derived:
            raise ProfileError(path, f"features[{index}]",
                               f"{feature_id!r} is claimed through access_types/access_levels/"
                               "driver_handles_share_servers, not listed in features")


SCALE_TARGET_DEFAULT = 2000
SCALE_STEPS_DEFAULT = (100, 500, 2000, 10000)


def _validate_scale(path: str, block: Mapping[str, Any]) -> None:
    """Scale steps ascend and stay within target_shares (the schema checks the types)."""
    steps = block.get("steps") or []
    target = block.get("target_shares", SCALE_TARGET_DEFAULT)
    for index, step in enumerate(steps):
        if index and step <= steps[index - 1]:
            raise ProfileError(path, f"scale.steps[{index}]",
                               f"steps must ascend ({step} after {steps[index - 1]})")
        if step > target:
            raise ProfileError(path, f"scale.steps[{index}]",
                               f"step {step} is above scale.target_shares ({target})")


def _substitute_env(path: str, config: Mapping[str, Any], env: Mapping[str, str],
                    prefix: str = "config", escape: bool = True) -> tuple[dict[str, Any], set[str]]:
    """Replace ${VAR} / ${VAR:-default} in config values; collect secret values.

    A substituted value is escaped for oslo.config (`$` becomes `$$`), so that `pa$sw0rd`
    reaches the driver as written rather than as a reference to an option `sw0rd`; `$name`
    written in the profile itself keeps its oslo.config meaning.
    """
    secrets: set[str] = set()

    def subst(value: Any, field_path: str, key: str) -> Any:
        if isinstance(value, str):
            plain: list[str] = []

            def repl(match: re.Match[str]) -> str:
                name, default = match.group(1), match.group(2)
                if name in env:
                    text = env[name]
                    if _is_secret_key(name):
                        secrets.add(text)
                elif default is not None:
                    text = default
                else:
                    raise ProfileError(path, field_path, f"environment variable {name} is not set")
                plain.append(text)
                return oslo_escape(text) if escape else text

            result = _ENV_REF.sub(repl, value)
            if _is_secret_key(key):
                secrets.add(result)
                secrets.update(plain)
                secrets.add(_ENV_REF.sub(lambda m: env.get(m.group(1), m.group(2) or ""), value))
            return result
        if isinstance(value, list):
            return [subst(v, f"{field_path}[{i}]", key) for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: subst(v, f"{field_path}.{k}", k) for k, v in value.items()}
        return value

    substituted = {k: subst(v, f"{prefix}.{k}", k) for k, v in config.items()}
    return substituted, {s for s in secrets if s}


def oslo_escape(text: str) -> str:
    """A literal value in oslo.config's file syntax: `$` is written `$$`."""
    return text.replace("$", "$$")


def _is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key)) and not _NOT_SECRET_KEY.search(key)


def profile_names_unique(paths: list[Path]) -> list[str]:
    """Problems with profile-name uniqueness across files, as one-line messages."""
    seen: dict[str, str] = {}
    problems = []
    for p in paths:
        name = _read_yaml(str(p)).get("name")
        if name in seen:
            problems.append(f"{p}: name: {name!r} is already used by {seen[name]}")
        else:
            seen[str(name)] = str(p)
    return problems
