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


class _Sequence:
    """What the steps made so far, as far as a later step's arguments depend on it: the shares
    (size, rules, snapshots oldest first) and the snapshots (share, size) alive after each step.
    Every step the state machine draws passes (its preconditions read the same things)."""

    POOL = ("id1", "id2", "id3")

    def __init__(self) -> None:
        self.shares: dict[str, dict[str, Any]] = {}
        self.snapshots: dict[str, tuple[str, int, int]] = {}
        """snapshot -> (its share, size in GiB, MiB used), as taken."""
        self.gone: dict[str, int] = {}
        """share or snapshot name -> the step that deleted it."""

    def _alive(self, kind: str, name: str) -> str | None:
        if name in (self.shares if kind == "share" else self.snapshots):
            return None
        if name in self.gone:
            return f"{name!r} was deleted by steps[{self.gone[name]}]"
        return f"{name!r} is not created by an earlier step"

    def _free(self, share: str, who: list[str], field: str) -> tuple[str, str] | None:
        held = [i for i in who if i in self.shares[share]["rules"]]
        if held or len(set(who)) != len(who):
            return field, (f"{held[0]!r} already has a rule on share {share!r}" if held
                           else "an identity is named twice")
        return None

    def _held(self, share: str, who: list[str], field: str) -> tuple[str, str] | None:
        rules = self.shares[share]["rules"]
        missing = [i for i in who if i not in rules]
        if missing or len(set(who)) != len(who):
            return field, (f"{missing[0]!r} has no rule on share {share!r}" if missing
                           else "an identity is named twice")
        return None

    def problem(self, n: int, rule: str, args: dict[str, Any]) -> tuple[str, str] | None:
        """(field, what is wrong) when step `n` cannot follow the steps before it; else None
        and the step is taken."""
        created = CREATES.get(rule)
        for key in ("share", "snapshot"):
            if key in args and (created is None or created[0] != key):
                why = self._alive(key, args[key])
                if why:
                    return key, why
        share = self.shares.get(args.get("share", ""))
        if created and args[created[0]] in {*self.shares, *self.snapshots, *self.gone}:
            return created[0], f"{args[created[0]]!r} is created twice"
        if rule == "create_share":
            self.shares[args["share"]] = {"size": args["size"], "used": 0, "rules": {}, "snapshots": []}
        elif rule == "snapshot":
            self.snapshots[args["snapshot"]] = (args["share"], share["size"], share["used"])
            share["snapshots"].append(args["snapshot"])
        elif rule == "share_from_snapshot":
            origin, size, used = self.snapshots[args["snapshot"]]
            if args["size"] < size:
                return "size", f"{args['size']} GiB is smaller than snapshot {args['snapshot']!r} ({size} GiB)"
            self.shares[args["share"]] = {"size": args["size"], "used": used, "rules": {}, "snapshots": []}
        elif rule == "delete_share":
            if share["snapshots"]:
                return "share", f"share {args['share']!r} still has snapshots {share['snapshots']}"
            del self.shares[args["share"]]
            self.gone[args["share"]] = n
        elif rule == "delete_snapshot":
            origin, _, _ = self.snapshots.pop(args["snapshot"])
            self.shares[origin]["snapshots"].remove(args["snapshot"])
            self.gone[args["snapshot"]] = n
        elif rule in ("extend", "shrink"):
            if (args["size"] > share["size"]) != (rule == "extend") or args["size"] == share["size"]:
                return "size", f"{args['size']} GiB does not {rule} share {args['share']!r} ({share['size']} GiB)"
            if rule == "extend" or share["used"] <= args["size"] * 1024:  # else refused: unchanged
                share["size"] = args["size"]
        elif rule == "revert":
            origin, size, used = self.snapshots[args["snapshot"]]
            if self.shares[origin]["snapshots"][-1] != args["snapshot"]:
                return "snapshot", f"{args['snapshot']!r} is not the latest snapshot of share {origin!r}"
            self.shares[origin].update(size=size, used=used)
        elif rule in ("grant", "grant_crowd"):
            who = ([i for i, _ in args["rules"]] if rule == "grant" else
                   [f"c{k}" for k in range(args["first"], args["first"] + args["count"])])
            wrong = self._free(args["share"], who, "rules" if rule == "grant" else "first")
            if wrong:
                return wrong
            levels = [lv for _, lv in args["rules"]] if rule == "grant" else [args["level"]] * len(who)
            share["rules"].update(zip(who, levels))
        elif rule in ("deny", "reapply"):
            wrong = self._held(args["share"], args["identities"], "identities")
            if wrong:
                return wrong
            if rule == "deny":
                for identity in args["identities"]:
                    del share["rules"][identity]
        elif rule == "change_access":
            wrong = self._held(args["share"], args["deny"], "deny")
            if wrong:
                return wrong
            for identity in args["deny"]:
                del share["rules"][identity]
            wrong = self._free(args["share"], [i for i, _ in args["add"]], "add")
            if wrong:
                return wrong
            share["rules"].update((i, lv) for i, lv in args["add"])
        elif rule in ("write", "fill"):
            if not any(share["rules"].get(i) == "rw" for i in self.POOL):
                return "share", f"no identity of {', '.join(self.POOL)} has a rw rule on share {args['share']!r} to write with"
            if rule == "fill":
                share["used"] += args["mib"]
        return None


def check_steps(path: str, raw: list[dict[str, Any]]) -> None:
    """Raise a one-line CertkitError naming `path` and the field of the first bad step: an
    argument of the wrong name, type or range, or a step that cannot follow the ones before it
    (an object not made or already deleted, a rule denied that was never granted, a revert to
    a snapshot that is not the latest), which would otherwise end a replay as a false
    "divergence"."""
    sequence = _Sequence()
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
        wrong = sequence.problem(n, item["rule"], args)
        if wrong:
            raise CertkitError(f"{path}: steps[{n}].args.{wrong[0]}: {wrong[1][:200]}")
