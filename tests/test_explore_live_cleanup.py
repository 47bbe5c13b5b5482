"""The live tier's clean-up without a lab (certkit.explore.livecleanup): a fake Manila whose
objects move through statuses as a clock advances. What the sweep must do: delete a share whose
create request was interrupted after Manila made it (found by its recorded name), wait for a
share still `creating`, delete snapshots before their share, never touch an object it did not
name, and at its bound list exactly what is left."""

from __future__ import annotations

import json

import pytest
from tempest.lib import exceptions as lib_exc

from certkit.explore.livecleanup import GONE_QUIET, Recorded, sweep

PREFIX = "certkit-explore-abcd1234-"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeManila:
    """Shares and snapshots with statuses that change at given times; Manila's delete rules
    (refused in a transitional status, a share with snapshots refused)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.objects: dict[str, dict] = {}
        self.appears: dict[str, float] = {}
        self.settles: dict[str, float] = {}
        self.deleted: list[str] = []

    def add(self, kind: str, oid: str, name: str, status: str = "available", *, share_id: str = "",
            appears: float = 0.0, settles: float = 0.0, final: str = "available") -> None:
        self.objects[oid] = {"kind": kind, "id": oid, "name": name, "status": status,
                             "share_id": share_id, "final": final}
        self.appears[oid], self.settles[oid] = appears, settles

    def _visible(self, kind: str) -> list[dict]:
        out = []
        for oid, obj in self.objects.items():
            if obj["kind"] != kind or self.clock() < self.appears[oid]:
                continue
            if self.clock() >= self.settles[oid]:
                obj["status"] = obj["final"]
            out.append({k: v for k, v in obj.items() if k not in ("kind", "final")})
        return out

    def get(self, url: str):
        collection, _, query = url.partition("/detail?name~=")
        kind = "share" if collection == "shares" else "snapshot"
        found = [o for o in self._visible(kind) if o["name"].startswith(query)]
        return {}, json.dumps({collection: found})

    def delete(self, url: str):
        collection, oid = url.split("/")
        obj = self.objects.get(oid)
        if obj is None or self.clock() < self.appears[oid]:
            raise lib_exc.NotFound(oid)
        if obj["status"] not in ("available", "error"):
            raise lib_exc.Forbidden(f"Invalid share: status must be available, not {obj['status']}")
        if obj["kind"] == "share" and any(o["share_id"] == oid for o in self.objects.values()):
            raise lib_exc.BadRequest("Share still has 1 dependent snapshots.")
        del self.objects[oid]
        self.deleted.append(oid)
        return {}, ""


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _sweep(api, recorded, clock, bound=60.0, **kw):
    return sweep(api, recorded, bound, interval=1.0, clock=clock, sleep=clock.sleep, **kw)


def test_a_share_created_by_an_interrupted_request_is_found_by_its_name_and_deleted(clock):
    api, recorded = FakeManila(clock), Recorded(PREFIX)
    recorded.intend("share", PREFIX + "1-s1")  # the POST was sent; its answer never came back
    api.add("share", "late", PREFIX + "1-s1", appears=1.0)  # Manila commits it a second later
    assert _sweep(api, recorded, clock) == []
    assert api.deleted == ["late"] and not recorded.names
    assert clock() >= GONE_QUIET


def test_a_share_still_creating_is_awaited_then_deleted_after_its_snapshot(clock):
    api, recorded = FakeManila(clock), Recorded(PREFIX)
    recorded.intend("share", PREFIX + "1-s1")
    recorded.intend("snapshot", PREFIX + "1-snap1")
    api.add("share", "sh", PREFIX + "1-s1", "creating", settles=5.0)
    api.add("snapshot", "sn", PREFIX + "1-snap1", "creating", share_id="sh", settles=8.0)
    assert _sweep(api, recorded, clock) == []
    assert api.deleted == ["sn", "sh"] and clock() >= 8.0


def test_only_recorded_names_are_deleted(clock):
    api, recorded = FakeManila(clock), Recorded(PREFIX)
    recorded.intend("share", PREFIX + "1-s1")
    api.add("share", "mine", PREFIX + "1-s1")
    api.add("share", "stranger", PREFIX + "1-s2")  # same prefix, never recorded by this run
    api.add("share", "other", "certkit-explore-ffff0000-1-s1")
    assert _sweep(api, recorded, clock) == []
    assert api.deleted == ["mine"] and set(api.objects) == {"stranger", "other"}
    with pytest.raises(ValueError, match="prefix"):
        recorded.intend("share", "someone-elses-share")


def test_what_never_settles_is_listed_with_its_status_at_the_bound(clock):
    api, recorded = FakeManila(clock), Recorded(PREFIX)
    for name in ("1-s1", "1-s2"):
        recorded.intend("share", PREFIX + name)
    api.add("share", "stuck", PREFIX + "1-s1", "creating", settles=10_000.0)
    api.add("share", "fine", PREFIX + "1-s2")
    left = _sweep(api, recorded, clock, bound=30.0, final=False)
    assert [(x.kind, x.id, x.name) for x in left] == [("share", "stuck", PREFIX + "1-s1")]
    assert "still creating after 30 s" in left[0].line()
    assert api.deleted == ["fine"] and 30.0 <= clock() <= 32.0
    # an example's clean-up skips what an earlier one could not delete; the final one retries
    assert _sweep(api, recorded, clock, final=False) == []
    api.settles["stuck"] = clock()  # it settles at last
    assert _sweep(api, recorded, clock, final=True) == [] and api.deleted == ["fine", "stuck"]


def test_an_api_that_stops_answering_leaves_the_recorded_objects_listed(clock):
    api, recorded = FakeManila(clock), Recorded(PREFIX)
    recorded.intend("share", PREFIX + "1-s1")
    api.add("share", "sh", PREFIX + "1-s1", "creating", settles=10_000.0)
    assert len(_sweep(api, recorded, clock, bound=5.0)) == 1

    def refuse(url: str):
        raise ConnectionRefusedError("manila-api is down")

    api.get = refuse
    left = _sweep(api, recorded, clock, bound=5.0)
    assert [(x.id, x.name) for x in left] == [("?", PREFIX + "1-s1")]
    assert "ConnectionRefusedError: manila-api is down" in left[0].error


class StoppedManager(FakeManila):
    """manila-share stopped by a restart step a signal interrupted half-way: a delete leaves
    the share `deleting` until manila-share runs again."""

    running = False

    def delete(self, url: str):
        oid = url.split("/")[1]
        if not self.running and oid in self.objects:
            self.objects[oid]["status"] = self.objects[oid]["final"] = "deleting"
            return {}, ""
        return super().delete(url)


class LabTarget:
    """The lab's restart: manila-share runs again and carries out the queued deletes."""

    can_restart = True

    def __init__(self, api: StoppedManager) -> None:
        self.api = api
        self.restarts = 0

    def restart(self, services: list[str]) -> None:
        assert services == ["manila-share"]
        self.restarts += 1
        self.api.running = True
        for oid in [o for o, obj in self.api.objects.items() if obj["status"] == "deleting"]:
            del self.api.objects[oid]


def test_an_examples_clean_up_finishes_an_interrupted_restart_before_it_waits(clock):
    """The slow mid-step signal runs (230 s in make test): the signal came during a `restart`
    step, and the example's clean-up waited its whole bound for a delete that manila-share,
    stopped, could not carry out; only the final clean-up restarted it. Now the example's
    clean-up restarts it first, and nothing is left for the final one."""
    import threading

    from certkit.explore.live import LiveSession

    api = StoppedManager(clock)
    api.recorded, api._lock, api.created = Recorded(PREFIX), threading.Lock(), []
    api.recorded.intend("share", PREFIX + "1-s1")
    api.add("share", "sh", PREFIX + "1-s1")
    session = LiveSession.__new__(LiveSession)  # without a Manila to log in to
    session.api, session.target, session.bound = api, LabTarget(api), 10.0
    session.restart_pending = True
    assert session.sweep(final=False) == []
    assert session.target.restarts == 1 and not session.restart_pending
    assert api.objects == {} and not api.recorded.names
    assert session.sweep(final=True) == [] and session.target.restarts == 1
