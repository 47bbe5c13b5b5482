"""The live tier's clean-up: nothing an exploration asks Manila for is left behind, also when a
signal interrupts it mid-request.

The ledger's rule, through the API: every share and snapshot is recorded *by name* before its
`POST` is sent (`Recorded.intend`), because the request can be interrupted after Manila created
the object but before its id came back. The clean-up (`sweep`) finds each recorded name through
the API (one listing of shares and one of snapshots a pass, filtered by the run's name prefix,
then only the recorded names kept: it never deletes what this run did not name), waits for each
object to leave a transitional status (`creating`, `extending`...; Manila refuses to delete
those), deletes it (snapshots before their share; the manager denies a share's rules first) and
waits until it is gone. It ends within its bound and returns exactly what it could not delete.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from certkit.text import error_text

DELETABLE = {"share": ("available", "error", "inactive"), "snapshot": ("available", "error")}
"""The statuses Manila deletes an object in (manila/share/api.py: `delete`, `delete_snapshot`)."""
GONE_QUIET = 2.0
"""Seconds between the two empty listings that end a sweep: a POST interrupted client-side may
still be creating its object server-side when the first listing runs."""


@dataclass
class Recorded:
    """The names of the shares and snapshots an exploration asked Manila for, recorded before
    each request; a name is dropped once its object is known to be gone."""

    prefix: str
    names: dict[str, str] = field(default_factory=dict)
    """name -> kind ("share" or "snapshot")."""
    stuck: set[str] = field(default_factory=set)
    """Names an example's clean-up could not delete: only the final clean-up tries again."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def intend(self, kind: str, name: str) -> str:
        """Record `name` before asking Manila to create it; returns it."""
        if not name.startswith(self.prefix):
            raise ValueError(f"{name!r} does not start with the run's prefix {self.prefix!r}")
        with self._lock:
            self.names[name] = kind
        return name

    def forget(self, name: str) -> None:
        """The object is gone: nothing left to clean up for it."""
        with self._lock:
            self.names.pop(name, None)
            self.stuck.discard(name)

    def snapshot(self, final: bool = True) -> dict[str, str]:
        """The recorded names (without the stuck ones unless `final`)."""
        with self._lock:
            return {n: k for n, k in self.names.items() if final or n not in self.stuck}


@dataclass(frozen=True)
class Left:
    """What the sweep could not delete."""

    kind: str
    id: str
    name: str
    error: str

    def line(self) -> str:
        return f"{self.kind} {self.name} ({self.id}): {self.error}"


def _listing(api: Any, kind: str, prefix: str) -> list[dict[str, Any]]:
    """Every share or snapshot whose name starts with `prefix` (Manila's `name~` filter,
    microversion 2.36 and later; the exact prefix is checked here again)."""
    from urllib.parse import quote

    collection = "shares" if kind == "share" else "snapshots"
    _, raw = api.get(f"{collection}/detail?name~={quote(prefix)}")
    return [o for o in json.loads(raw)[collection] if (o.get("name") or "").startswith(prefix)]


def _found(api: Any, recorded: Recorded, final: bool) -> list[tuple[str, dict[str, Any]]]:
    """(kind, object) for every recorded name Manila still lists, snapshots first; snapshots of
    a recorded share count too, whatever their name (a share cannot go before them)."""
    names = recorded.snapshot(final)
    shares = [s for s in _listing(api, "share", recorded.prefix) if names.get(s["name"]) == "share"]
    share_ids = {s["id"] for s in shares}
    snaps = [s for s in _listing(api, "snapshot", recorded.prefix)
             if names.get(s["name"]) == "snapshot" or s.get("share_id") in share_ids]
    return [("snapshot", s) for s in snaps] + [("share", s) for s in shares]


def sweep(api: Any, recorded: Recorded, bound: float, *, final: bool = True,
          interval: float = 1.0, clock: Callable[[], float] = time.monotonic,
          sleep: Callable[[float], None] = time.sleep) -> list[Left]:
    """Delete every recorded object Manila still lists, within `bound` seconds; what is left.

    Each pass lists what remains, deletes what Manila can delete now (snapshots first, then
    shares without snapshots) and waits `interval`; an object in a transitional status is
    awaited by the next pass. Names found gone are forgotten. The sweep ends after two empty
    listings `GONE_QUIET` s apart, or at the bound. Not `final` (an example's end), names left
    by an earlier sweep are skipped and what is left now joins them."""
    from tempest.lib import exceptions as lib_exc

    if not recorded.snapshot(final):
        return []
    quiet = GONE_QUIET if final else 0.0
    deadline = clock() + bound
    empty_since: float | None = None
    refused: dict[str, str] = {}
    seen: list[tuple[str, dict[str, Any]]] = []
    while True:
        try:
            seen = _found(api, recorded, final)
        except Exception as exc:  # noqa: BLE001 - the API is down: retried until the bound
            refused["listing"] = error_text(exc, 300)
            if clock() >= deadline:
                return [Left(kind, "?", name, f"not known to be deleted: the API did not list it "
                                              f"within {bound:.0f} s ({refused['listing']})")
                        for name, kind in recorded.snapshot(final).items()]
            sleep(interval)
            continue
        refused.pop("listing", None)
        if not seen:
            empty_since = empty_since if empty_since is not None else clock()
            if clock() - empty_since >= quiet or clock() >= deadline:
                for name in recorded.snapshot(final):
                    recorded.forget(name)
                return []
        else:
            empty_since = None
        if seen and clock() >= deadline:
            break
        held = {o["share_id"] for kind, o in seen if kind == "snapshot"}
        for kind, obj in seen:
            if obj["status"] not in DELETABLE[kind] or (kind == "share" and obj["id"] in held):
                continue
            try:
                api.delete(f"{'shares' if kind == 'share' else 'snapshots'}/{obj['id']}")
                refused.pop(obj["id"], None)
            except lib_exc.NotFound:
                continue
            except Exception as exc:  # noqa: BLE001 - refused for now: the next pass retries
                refused[obj["id"]] = error_text(exc, 300)
        sleep(interval)
    left = []
    listed = {o.get("name") or "" for _, o in seen}
    for name in set(recorded.snapshot(final)) - listed:
        recorded.forget(name)
    recorded.stuck.update(listed)
    for kind, obj in seen:
        why = refused.get(obj["id"]) or refused.get("listing") or ""
        left.append(Left(kind, obj["id"], obj.get("name") or "",
                         f"still {obj['status']} after {bound:.0f} s" + (f" ({why})" if why else "")))
    return left
