"""A replay file's steps are checked before any runs: each rule's arguments have the names,
types and ranges the state machine draws, and every share or snapshot a step names was created
by an earlier step. A hand-edited or hostile file (quotes, newlines, `{{ }}`, very long strings,
a size of "1" or 10**12) gets one line naming the file and the field, never a traceback, and never
reaches a driver or Manila as a "reproduced divergence".
"""

from __future__ import annotations

import re
from typing import Any, Callable

from certkit.errors import CertkitError

SHARE = re.compile(r"s[0-9]{1,6}")
SNAPSHOT = re.compile(r"snap[0-9]{1,6}")
IDENTITY = re.compile(r"id[1-3]|c[0-9]{1,6}")
LEVELS = ("rw", "ro")
MODES = ("delta", "sync")
FILES = ("a", "b", "c")
MAX_SIZE = 16384
"""GiB: far above anything drawn (the profile's max_size), far below what would overflow."""
MAX_RULES = 1024
"""Rules in one step: above Manila's default limit of rules a share (the model's `many`)."""
MAX_TEXT = 256


def _int(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if type(value) is not int or not low <= value <= high:
            return f"expected an integer from {low} to {high}"
        return None
    return check


def _name(pattern: re.Pattern[str], what: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            return f"expected a {what} name like {pattern.pattern!r}"
        return None
    return check


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if isinstance(value, str) and value in choices else f"expected one of {', '.join(choices)}"
    return check


def _list(item: Callable[[Any], str | None], low: int = 0) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, list) or not low <= len(value) <= MAX_RULES:
            return f"expected a list of {low} to {MAX_RULES} items"
        for n, entry in enumerate(value):
            problem = item(entry)
            if problem:
                return f"[{n}]: {problem}"
        return None
    return check


def _grant(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) != 2:
        return "expected [identity, level]"
    return _name(IDENTITY, "identity")(value[0]) or _one_of(LEVELS)(value[1])


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_TEXT or not value.isprintable():
        return f"expected printable text of at most {MAX_TEXT} characters"
    return None


SHARE_ARG, SNAP_ARG, SIZE = _name(SHARE, "share"), _name(SNAPSHOT, "snapshot"), _int(1, MAX_SIZE)
IDENTITIES = _list(_name(IDENTITY, "identity"), 1)
ARGS: dict[str, dict[str, Callable[[Any], str | None]]] = {
    "create_share": {"share": SHARE_ARG, "size": SIZE},
    "delete_share": {"share": SHARE_ARG},
    "extend": {"share": SHARE_ARG, "size": SIZE},
    "shrink": {"share": SHARE_ARG, "size": SIZE},
    "snapshot": {"snapshot": SNAP_ARG, "share": SHARE_ARG},
    "delete_snapshot": {"snapshot": SNAP_ARG},
    "share_from_snapshot": {"share": SHARE_ARG, "snapshot": SNAP_ARG, "size": SIZE},
    "revert": {"snapshot": SNAP_ARG},
    "grant": {"share": SHARE_ARG, "rules": _list(_grant, 1), "mode": _one_of(MODES)},
    "grant_crowd": {"share": SHARE_ARG, "first": _int(1, 999999), "count": _int(1, MAX_RULES),
                    "level": _one_of(LEVELS), "mode": _one_of(MODES)},
    "reapply": {"share": SHARE_ARG, "identities": IDENTITIES},
    "deny": {"share": SHARE_ARG, "identities": IDENTITIES, "mode": _one_of(MODES)},
    "change_access": {"share": SHARE_ARG, "add": _list(_grant), "deny": IDENTITIES},
    "restart": {},
    "write": {"share": SHARE_ARG, "path": _one_of(FILES), "content": _text},
    "fill": {"share": SHARE_ARG, "mib": _int(1, 1 << 20)},
    "remount": {},
}
"""Each rule's arguments and what each must be (what `certkit.explore.machine` draws)."""
CREATES = {"create_share": ("share", "share"), "share_from_snapshot": ("share", "share"),
           "snapshot": ("snapshot", "snapshot")}


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_steps(path: str, raw: list[dict[str, Any]]) -> None:
    """Raise a one-line CertkitError naming `path` and the field of the first bad step."""
    made: dict[str, set[str]] = {"share": set(), "snapshot": set()}
    for n, item in enumerate(raw):
        args = item.get("args") or {}
        schema = ARGS[item["rule"]]
        extra = sorted(set(args) - set(schema), key=str)
        if extra:
            raise CertkitError(f"{path}: steps[{n}].args: unknown argument {_shown(extra[0])} of "
                               f"{item['rule']} (it takes: {', '.join(schema) or 'none'})")
        for key, check in schema.items():
            if key not in args:
                raise CertkitError(f"{path}: steps[{n}].args.{key}: missing")
            problem = check(args[key])
            if problem:
                raise CertkitError(f"{path}: steps[{n}].args.{key}: {_shown(args[key])}: {problem}")
        created = CREATES.get(item["rule"])
        for key, kind in (("share", "share"), ("snapshot", "snapshot")):
            if key in args and (created is None or created[0] != key) and args[key] not in made[kind]:
                raise CertkitError(f"{path}: steps[{n}].args.{key}: {args[key]!r} is not created "
                                   "by an earlier step")
        if created is not None:
            made[created[1]].add(args[created[0]])
