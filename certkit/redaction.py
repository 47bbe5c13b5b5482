"""Secrets out of everything certkit writes: values are redacted in the data, before serialising.

A secret is replaced as it is and in the escaped forms a message may carry it in (Python repr,
JSON, unicode escapes), whatever its characters. A secret of fewer than 4 characters is replaced
where it stands alone (not inside a longer word): replacing every "a" of a report would hide
nothing and destroy the report.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Iterable

MASK = "***"
SHORT = 4


def _forms(secret: str) -> set[str]:
    """The secret and the escaped spellings it takes in reprs, JSON and tracebacks."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1],
             secret.encode("unicode_escape").decode("ascii")}
    return {f for f in forms if f}


@lru_cache(maxsize=64)
def _pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    alternatives = []
    for secret in secrets:
        for form in _forms(secret):
            escaped = re.escape(form)
            if len(secret) < SHORT:
                escaped = rf"(?<![^\W_]){escaped}(?![^\W_])"
            alternatives.append((len(form), escaped))
    if not alternatives:
        return None
    alternatives.sort(key=lambda pair: -pair[0])  # longest first: no partial replacement
    return re.compile("|".join(a for _, a in alternatives))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by `***`."""
    pattern = _pattern(frozenset(s for s in secrets if s))
    return pattern.sub(MASK, text) if pattern is not None else text


def redact_tree(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with secrets redacted in every string,
    keys included."""
    frozen = frozenset(s for s in secrets if s)
    if not frozen:
        return value

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return redact_text(node, frozen)
        if isinstance(node, dict):
            return {walk(k): walk(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [walk(v) for v in node]
        return node

    return walk(value)
