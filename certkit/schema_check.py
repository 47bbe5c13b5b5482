"""JSON Schemas kept as data under certkit/schemas/, and validation that names the failing path."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

import jsonschema
from jsonschema.protocols import Validator
from referencing import Registry, Resource

from certkit.text import one_line


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """Load `certkit/schemas/<name>`."""
    text = resources.files("certkit.schemas").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def _registry() -> Registry:
    """Every schema of certkit/schemas/ under its $id, so files can `$ref` one another."""
    registry = Registry()
    for entry in resources.files("certkit.schemas").iterdir():
        if entry.name.endswith(".schema.json"):
            schema = load_schema(entry.name)
            registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    return registry


def is_json_number(checker: Any, instance: Any) -> bool:
    """A JSON number: finite (JSON has no Infinity or NaN, and a capacity of inf is garbage)."""
    return (isinstance(instance, (int, float)) and not isinstance(instance, bool)
            and math.isfinite(instance))


@lru_cache(maxsize=None)
def validator_for(name: str) -> Validator:
    """A validator for a schema file, with format checking, cross-file `$ref`s, and `number`
    meaning a finite number."""
    schema = load_schema(name)
    base = jsonschema.validators.validator_for(schema)
    base.check_schema(schema)
    cls = jsonschema.validators.extend(
        base, type_checker=base.TYPE_CHECKER.redefine("number", is_json_number))
    return cls(schema, format_checker=base.FORMAT_CHECKER, registry=_registry())


def json_path(parts: Iterable[Any]) -> str:
    """Render a jsonschema error path as `a.b[0].c`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def schema_errors(instance: Any, name: str, root: str = "$") -> list[str]:
    """Every violation of schema `name` by `instance`, as `schema: path: message` lines."""
    problems = []
    errors = [_most_specific(e) for e in validator_for(name).iter_errors(instance)]
    for err in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        path = json_path(err.absolute_path)
        where = f"{root}.{path}" if path and not path.startswith("[") else f"{root}{path}"
        problems.append(f"{name}: {where}: {one_line(err.message, 200)}")
    return problems


def _most_specific(err: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For a oneOf/anyOf failure, the sub-error of the branch that came closest."""
    while err.context:
        # Branches that fail on the value's very type are the wrong branch, not the problem.
        relevant = [e for e in err.context
                    if not (e.validator in ("type", "enum", "const") and not e.relative_path)]
        err = max(relevant, key=lambda e: len(e.absolute_path)) if relevant else \
            jsonschema.exceptions.best_match(err.context)
    return err
