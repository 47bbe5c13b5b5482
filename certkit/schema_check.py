"""JSON Schemas kept as data under certkit/schemas/, and validation that names the failing path."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

import jsonschema
from jsonschema.protocols import Validator


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """Load `certkit/schemas/<name>`."""
    text = resources.files("certkit.schemas").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def validator_for(name: str) -> Validator:
    """A validator for a schema file, with format checking."""
    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def json_path(parts: Iterable[Any]) -> str:
    """Render a jsonschema error path as `a.b[0].c`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def schema_errors(instance: Any, name: str, root: str = "$") -> list[str]:
    """Every violation of schema `name` by `instance`, as `schema: path: message` lines."""
    problems = []
    for err in sorted(validator_for(name).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        path = json_path(err.absolute_path)
        where = f"{root}.{path}" if path and not path.startswith("[") else f"{root}{path}"
        message = " ".join(err.message.split())
        if len(message) > 200:
            message = message[:197] + "..."
        problems.append(f"{name}: {where}: {message}")
    return problems
