"""Request bodies checked against certkit's schemas, errors as JSON Pointers (RFC 6901)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterable

import fastjsonschema
import jsonschema

from certkit.dashboard.clock import time_problem
from certkit.dashboard.db import as_utc
from certkit.schema_check import load_schema, validator_for

MAX_DEPTH = 64
"""Deepest JSON nesting a body may have: a report is about 5 deep; 64 is generous and keeps the
validators' recursion far from Python's limit."""

PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def nesting_depth(value: Any) -> int:
    """How deep arrays and objects nest (a scalar is 0), without recursion; stops counting past
    MAX_DEPTH."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, (dict, list)))
    return deepest


def pointer(parts: Iterable[Any]) -> str:
    """A JSON Pointer for a jsonschema path: ['checks', 3, 'outcome'] -> /checks/3/outcome."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _leaf(err: jsonschema.ValidationError) -> jsonschema.ValidationError:
    while err.context:
        err = max(err.context, key=lambda e: len(e.absolute_path))
    return err


def schema_problems(instance: Any, schema: str, limit: int = 20) -> list[dict[str, str]]:
    """Up to `limit` violations as {"path": "/a/0/b", "message": ...}, sorted by path."""
    errors = sorted((_leaf(e) for e in validator_for(schema).iter_errors(instance)),
                    key=lambda e: [str(p) for p in e.absolute_path])
    out = []
    for err in errors[:limit]:
        message = " ".join(err.message.split())
        out.append({"path": pointer(err.absolute_path),
                    "message": message if len(message) <= 300 else message[:297] + "..."})
    return out


@lru_cache(maxsize=None)
def _compiled(schema: str) -> Callable[[Any], Any]:
    """The schema compiled to Python by fastjsonschema (about 20 times faster than jsonschema on an
    80-check report), with jsonschema's own format checker so formats mean the same thing."""
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    formats = {name: (lambda value, name=name: checker.conforms(value, name))
               for name in checker.checkers}
    return fastjsonschema.compile(load_schema(schema), formats=formats,
                                  handlers={"https": _local_schema, "http": _local_schema})


SCHEMA_BASE = "https://certkit.invalid/schemas/"


def _local_schema(uri: str) -> dict[str, Any]:
    """A `$ref` to another certkit schema, read from the package: never fetched from a network."""
    name = uri.split("#", 1)[0]
    if not name.startswith(SCHEMA_BASE):
        raise ValueError(f"{uri}: only certkit's own schemas may be referenced")
    return load_schema(name[len(SCHEMA_BASE):])


def fast_valid(instance: Any, schema: str) -> bool:
    """True when the instance certainly conforms: the compiled schema accepts it and it holds no
    NaN or Infinity (certkit's schemas want finite numbers). False means "ask jsonschema", which
    stays the authority for every rejection and names the failing paths."""
    try:
        _compiled(schema)(instance)
        json.dumps(instance, allow_nan=False)
    except (fastjsonschema.JsonSchemaException, ValueError, TypeError):
        return False
    return True


def time_problems(body: dict[str, Any], field: str) -> list[dict[str, str]]:
    """The body's time field as RFC 3339 and within the bounds the server trusts (clock.py)."""
    try:  # jsonschema checks `format: date-time` only with an optional package: check it here
        value = as_utc(datetime.fromisoformat(body[field].replace("Z", "+00:00")))
    except ValueError:
        return [{"path": f"/{field}", "message": "must be an RFC 3339 date-time"}]
    problem = time_problem(value, field)
    return [{"path": f"/{field}", "message": problem}] if problem else []


def report_problems(report: Any) -> list[dict[str, str]]:
    """Schema errors, then what the dashboard needs beyond the schema (a usable profile name, a
    start time it can trust)."""
    problems = [] if fast_valid(report, "report.schema.json") else \
        schema_problems(report, "report.schema.json")
    if problems:
        return problems
    problems += time_problems(report, "started_at")
    name = report["profile"]["name"]
    if not PROFILE_NAME.match(name):
        problems.append({"path": "/profile/name",
                         "message": "must be a profile name (letters, digits, . _ -; at most 64)"})
    for feature in report["features"]:
        if len(feature) > 80:
            problems.append({"path": pointer(["features", feature]), "message": "feature id too long"})
    return problems


CI_VOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["source", "account", "project", "change", "patchset", "verified", "seen_at"],
    "additionalProperties": False,
    "properties": {
        "source": {"enum": ["gerrit"]},
        "account": {"type": "string", "minLength": 1, "maxLength": 200},
        "project": {"type": "string", "minLength": 1, "maxLength": 200},
        "change": {"type": "integer", "minimum": 1},
        "patchset": {"type": "integer", "minimum": 1},
        "branch": {"type": "string", "maxLength": 200},
        "verified": {"enum": [-2, -1, 0, 1, 2]},
        "jobs": {"type": "array", "maxItems": 500, "items": {
            "type": "object", "required": ["name", "result"],
            "properties": {"name": {"type": "string"}, "result": {"type": "string"},
                           "url": {"type": "string"}}}},
        "seen_at": {"type": "string", "format": "date-time"},
        "comment": {"type": "string", "maxLength": 20000},
    },
}


def ci_vote_problems(vote: Any) -> list[dict[str, str]]:
    """Violations of the CI-vote body (see the coordination contract), then its time's bounds."""
    cls = jsonschema.Draft202012Validator
    validator = cls(CI_VOTE_SCHEMA, format_checker=cls.FORMAT_CHECKER)
    problems = [{"path": pointer(e.absolute_path), "message": " ".join(e.message.split())[:300]}
                for e in sorted(validator.iter_errors(vote),
                                key=lambda e: [str(p) for p in e.absolute_path])]
    return problems or time_problems(vote, "seen_at")


def audit_problems(audit: Any) -> list[dict[str, str]]:
    """Violations of audit.schema.json, then its generated_at's bounds."""
    return schema_problems(audit, "audit.schema.json") or time_problems(audit, "generated_at")
