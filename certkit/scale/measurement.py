"""The scale workload: grow the back end to each step's N shares through Resources, measure every
operation there, restart a second driver instance over all N, and delete everything in parallel.

Every driver call runs under a deadline; an error or time-out is counted with its numbers (a
finding), never a crash. A stop request (Ctrl-C) is honoured between calls: nothing new starts,
what is in flight finishes, and the check's Resources delete what exists.
"""

from __future__ import annotations

import threading
import time
from statistics import median
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from certkit.contract.checks import ContractViolation, expect, expect_schema
from certkit.contract.resources import Resources
from certkit.harness.models import Model
from certkit.deadlines import call_with_timeout
from certkit.scale.analysis import OPERATIONS, curve, figures, verified_shares
from certkit.scale.workers import run_all

PROGRESS_INTERVAL = 1.0
FLOOR_CALLS = 21


@dataclass(frozen=True)
class ScaleSettings:
    """The profile's `scale:` block with its defaults (see Profile.scale)."""

    target_shares: int
    steps: tuple[int, ...]
    rules_per_share: int
    concurrency: int
    samples: int

    @classmethod
    def from_block(cls, block: Mapping[str, Any]) -> "ScaleSettings":
        return cls(block["target_shares"], tuple(block["steps"]), block["rules_per_share"],
                   block["concurrency"], block["samples"])


class Stopped(Exception):
    """The run is being torn down (Ctrl-C): no new call starts."""


class StepRecorder:
    """Latency samples and errors of one step, per operation (thread-safe)."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.first_error: dict[str, str] = {}
        self._lock = threading.Lock()

    def ok(self, op: str, seconds: float) -> None:
        with self._lock:
            self.samples[op].append(seconds)

    def failed(self, op: str, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else _describe(error)
        with self._lock:
            self.errors[op] += 1
            self.first_error.setdefault(op, text)

    def result(self, shares: int, seconds: float) -> dict[str, Any]:
        """The step's entry of the report (percentiles only: the samples are dropped)."""
        ops = {op.name: figures(self.samples.get(op.name, []), self.errors.get(op.name, 0),
                                self.first_error.get(op.name))
               for op in OPERATIONS if op.name in self.samples or op.name in self.errors}
        return {"shares": shares, "seconds": round(seconds, 3),
                "errors": sum(self.errors.values()), "operations": ops}


class ScaleMeasurement:
    """One scale run over a Resources object (the check's door to the driver)."""

    def __init__(self, resources: Resources, settings: ScaleSettings, *, proto: str,
                 access_type: str | None, new_instance: Callable[[], Any], context: Any,
                 call_timeout: float, driver_seconds: Callable[[], float],
                 snapshots: bool = True, progress: Callable[[str], None] | None = None) -> None:
        self.res = resources
        self.settings = settings
        self.proto = proto
        self.access_type = access_type
        self.new_instance = new_instance
        self.context = context
        self.call_timeout = call_timeout
        self.driver_seconds = driver_seconds
        self.snapshots = snapshots
        self.progress = progress
        self.stop = threading.Event()
        self.finished = threading.Event()
        self.population: list[Model] = []
        self.shares_created = 0
        self._rule_samples: dict[str, list[tuple[int, float]]] = {}
        self._last_progress = 0.0
        self._lock = threading.Lock()

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Every step, then the teardown; returns the report's `scale` section."""
        start, driver_start = time.perf_counter(), self.driver_seconds()
        steps: list[dict[str, Any]] = []
        stopped = ""
        teardown: dict[str, Any] | None = None
        try:
            for n in self.settings.steps:
                step, stopped = self._step(n)
                steps.append(step)
                self._say(f"scale: N={step['shares']:,} measured in {step['seconds']:.1f} s, "
                          f"{step['errors']} error(s)")
                if stopped:
                    break
            teardown = self._teardown()
        except Stopped:
            stopped = "interrupted"
        finally:
            self.finished.set()
        elapsed = time.perf_counter() - start
        driver = self.driver_seconds() - driver_start
        return self._section(steps, stopped, teardown, elapsed, driver)

    def _step(self, n: int) -> tuple[dict[str, Any], str]:
        rec = StepRecorder()
        began = time.perf_counter()
        stopped = self._grow(n, rec)
        shares = len(self.population)
        floor = self._floor()
        if shares:
            self._probe_shares(rec, shares)
            self._snapshots(rec, shares)
            self._access(rec, shares)
            self._stats(rec, shares)
            self._restart(rec, shares)
        return {**rec.result(shares, time.perf_counter() - began), "floor_seconds": floor}, stopped

    def _floor(self) -> float:
        """p50 of a no-op call made the way driver calls are (on a worker, with a yield)."""
        def noop(_: Any) -> float:
            start = time.perf_counter()
            time.sleep(0)
            return time.perf_counter() - start
        return round(float(median(self._run(StepRecorder(), "floor", noop, range(FLOOR_CALLS),
                                            workers=1) or [0.0])), 6)

    # -- phases -------------------------------------------------------------------------------
    def _grow(self, n: int, rec: StepRecorder) -> str:
        """Create shares until N are present; stop (with the reason) when too many fail."""
        budget = max(5, (n - len(self.population)) // 50)
        failures = 0
        while len(self.population) < n and failures <= budget:
            missing = n - len(self.population)
            batch = missing if not failures else min(missing, budget - failures + 1)
            created = self._map(rec, "create_share", lambda _: self._create_share(rec, n),
                                range(batch), measured=True)
            self.population += created
            failures += batch - len(created)
        if len(self.population) < n:
            return (f"create_share failed {failures} times growing to N={n:,} (reached "
                    f"{len(self.population):,}); first error: {rec.first_error.get('create_share')}")
        return ""

    def _probe_shares(self, rec: StepRecorder, n: int) -> None:
        self._say(f"scale: N={n:,}: create and delete {self.settings.samples} shares")
        created = self._map(rec, "create_share", lambda _: self._create_share(rec),
                            range(self.settings.samples), measured=True)
        self._map(rec, "delete_share", self.res.delete_share, created)

    def _snapshots(self, rec: StepRecorder, n: int) -> None:
        if not self.snapshots:
            return
        self._say(f"scale: N={n:,}: create and delete {self.settings.samples} snapshots")
        shares = _spread(self.population, self.settings.samples)
        snaps = self._map(rec, "create_snapshot", self.res.create_snapshot, shares)
        self._map(rec, "delete_snapshot", self.res.delete_snapshot, snaps)

    def _access(self, rec: StepRecorder, n: int) -> None:
        """K rules added one call each (the manager passes every rule), then removed."""
        k = self.settings.rules_per_share
        if not self.access_type or not k:
            return
        self._say(f"scale: N={n:,}: update_access adding and removing {k} rules")
        share = self.population[(len(self.population) - 1) // 2]
        applied: list[Model] = []
        adds: list[tuple[int, float]] = []
        removes: list[tuple[int, float]] = []

        def add(i: int) -> None:
            rule = self.res.models.access_rule(share, self.access_type, self._access_to(i))
            start = time.perf_counter()
            result = self._measured(rec, "update_access_add", self.res.grant,
                                    (share, rule, list(applied)), {})
            if result is not _FAILED:
                adds.append((len(applied) + 1, time.perf_counter() - start))
                applied.append(rule)
                self._rule_errors(rec, "update_access_add", result)

        def remove(rule: Model) -> None:
            applied.remove(rule)  # the newest: the rules are removed in reverse order
            start = time.perf_counter()
            result = self._measured(rec, "update_access_remove", self.res.revoke,
                                    (share, rule, list(applied)), {})
            if result is not _FAILED:
                removes.append((len(applied), time.perf_counter() - start))

        self._serial(rec, "update_access_add", add, range(1, k + 1))
        self._serial(rec, "update_access_remove", remove, list(reversed(applied)))
        self._rule_samples = {"update_access_add": adds, "update_access_remove": removes}

    def _stats(self, rec: StepRecorder, n: int) -> None:
        for _ in range(self.settings.samples):
            self._check_stop()
            stats = self._timed(rec, "get_share_stats", self.res.driver.get_share_stats, refresh=True)
            if stats is not _FAILED and not isinstance(stats, dict):
                rec.failed("get_share_stats", f"returned {type(stats).__name__}, not a dict")

    def _restart(self, rec: StepRecorder, n: int) -> None:
        """A second driver instance over the same private storage: get_backend_info, then
        ensure_shares over all N shares, as the share manager does at start-up."""
        self._check_stop()
        self._say(f"scale: N={n:,}: restart (second instance, ensure_shares over {n:,} shares)")
        try:
            second = self.new_instance()
            call_with_timeout(second.do_setup, self.call_timeout, "do_setup", self.context)
        except Exception as exc:  # noqa: BLE001 - a finding of the restart step
            rec.failed("ensure_shares", f"the second instance's set-up raised {_describe(exc)}")
            return
        self._timed(rec, "get_backend_info", second.get_backend_info, self.context,
                    optional=True)
        views = [{**s.to_dict(), "status": "ensuring"} for s in self.population]
        deadline = self.call_timeout * max(1.0, n / 1000)
        result = self._timed(rec, "ensure_shares", self._ensure, second, views, timeout=deadline)
        if result is _FAILED or result is None:
            return
        try:  # checked outside the timing: the harness's work is not the driver's latency
            expect_schema(result, "ensure_shares.schema.json", "ensure_shares()")
            unknown = set(result) - {v["id"] for v in views}
            expect(not unknown, f"ensure_shares returned updates for {len(unknown)} shares it "
                                "was not given")
        except ContractViolation as exc:
            rec.failed("ensure_shares", exc)
            return
        bad = [sid for sid, update in result.items() if (update or {}).get("status") == "error"]
        if bad:
            rec.failed("ensure_shares", f"reported {len(bad)} of {n:,} shares in error after a "
                                        f"restart (e.g. {bad[0]})")

    def _ensure(self, second: Any, views: list[dict[str, Any]]) -> Any:
        try:
            return second.ensure_shares(self.context, views)
        except NotImplementedError:  # the manager falls back to ensure_share, one call each
            for view in views:
                second.ensure_share(self.context, view, share_server=self.res.share_server)
            return None

    def _teardown(self) -> dict[str, Any]:
        """Delete the population, `concurrency` at a time."""
        count = len(self.population)
        self._say(f"scale: deleting {count:,} shares, {self.settings.concurrency} at a time")
        rec = StepRecorder()
        start = time.perf_counter()
        self._map(rec, "delete_share", self.res.delete_share, self.population)
        self.population = []
        return {"shares": count, "seconds": round(time.perf_counter() - start, 3),
                "errors": rec.errors.get("delete_share", 0),
                "delete_share": figures(rec.samples.get("delete_share", []),
                                        rec.errors.get("delete_share", 0),
                                        rec.first_error.get("delete_share"))}

    # -- helpers ------------------------------------------------------------------------------
    def _create_share(self, rec: StepRecorder, n: int | None = None) -> Any:
        share = self._measured(rec, "create_share", self.res.create_share, (self.proto,), {})
        if share is not _FAILED:
            with self._lock:
                self.shares_created += 1
            if n:
                self._say(f"scale: growing to N={n:,}: {self.shares_created:,} shares created so far",
                          throttle=True)
        return share

    def _measured(self, rec: StepRecorder, op: str, func: Callable[..., Any], args: tuple,
                  kwargs: dict[str, Any], optional: bool = False) -> Any:
        """One call: its latency, or its error (then _FAILED). Never raises."""
        start = time.perf_counter()
        try:
            value = func(*args, **kwargs)
        except NotImplementedError:
            if not optional:
                rec.failed(op, "NotImplementedError")
            return _FAILED
        except Exception as exc:  # noqa: BLE001 - counted as an error of the operation
            rec.failed(op, exc)
            return _FAILED
        rec.ok(op, time.perf_counter() - start)
        return value

    def _timed(self, rec: StepRecorder, op: str, func: Callable[..., Any], *args: Any,
               timeout: float | None = None, optional: bool = False, **kwargs: Any) -> Any:
        """One call under its deadline; returns the value or _FAILED."""
        values = self._run(rec, op, lambda _: self._measured(rec, op, func, args, kwargs, optional),
                           [None], workers=1, deadline=timeout)
        return values[0] if values else _FAILED

    def _serial(self, rec: StepRecorder, op: str, func: Callable[[Any], Any],
                items: Iterable[Any]) -> None:
        """func over items in order, one at a time, each under the deadline."""
        self._run(rec, op, func, items, workers=1)

    def _map(self, rec: StepRecorder, op: str, func: Callable[[Any], Any], items: Iterable[Any],
             measured: bool = False) -> list[Any]:
        """func over items, `concurrency` in flight; the values of the calls that succeeded."""
        call = func if measured else (lambda item: self._measured(rec, op, func, (item,), {}))
        return [v for v in self._run(rec, op, call, items) if v is not _FAILED]

    def _run(self, rec: StepRecorder, op: str, func: Callable[[Any], Any], items: Iterable[Any],
             workers: int | None = None, deadline: float | None = None) -> list[Any]:
        limit = deadline or self.call_timeout
        values = run_all(func, items, workers=workers or self.settings.concurrency,
                         deadline=limit, stop=self.stop,
                         on_timeout=lambda _: rec.failed(op, f"TimedOut: did not return within "
                                                             f"{limit:g} s"))
        self._check_stop()
        return values

    def _rule_errors(self, rec: StepRecorder, op: str, result: Any) -> None:
        for access_id, update in (result or {}).items():
            if (update or {}).get("state") == "error":
                rec.failed(op, f"rule {access_id} came back in state 'error'")

    def _access_to(self, n: int) -> str:
        if self.access_type == "ip":
            return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255 or 254}"
        return self.res.access_to(self.access_type or "ip", n)

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise Stopped()

    def _say(self, line: str, throttle: bool = False) -> None:
        now = time.monotonic()
        if self.progress and (not throttle or now - self._last_progress >= PROGRESS_INTERVAL):
            self._last_progress = now
            self.progress(line)

    def _section(self, steps: list[dict[str, Any]], stopped: str, teardown: dict[str, Any] | None,
                 elapsed: float, driver: float) -> dict[str, Any]:
        operations = {}
        for op in OPERATIONS:
            if any(op.name in s["operations"] for s in steps):
                operations[op.name] = curve(op, steps, self._rule_samples.get(op.name, ()))
        findings = [c["finding"] for c in operations.values() if "finding" in c]
        for step in steps:
            for name, figs in step["operations"].items():
                if figs["errors"]:
                    findings.append(f"{name} at N={step['shares']:,}: {figs['errors']} error(s) in "
                                    f"{figs['errors'] + figs['count']} calls; first: "
                                    f"{figs.get('first_error', '')}")
        deletes = (teardown or {}).get("delete_share", {})
        if deletes.get("errors"):
            findings.append(f"delete_share while deleting {teardown['shares']:,} shares: "
                            f"{deletes['errors']} of {deletes['errors'] + deletes['count']} calls "
                            f"failed (retried by the clean-up); first: {deletes.get('first_error', '')}")
        if stopped:
            findings.append(f"stopped: {stopped}")
        s = self.settings
        section: dict[str, Any] = {
            "target_shares": s.target_shares, "steps": list(s.steps),
            "rules_per_share": s.rules_per_share, "concurrency": s.concurrency,
            "samples": s.samples, "protocol": self.proto, "access_type": self.access_type,
            "verified_shares": verified_shares(steps),
            "reached_shares": max((st["shares"] for st in steps), default=0),
            "complete": not stopped and len(steps) == len(s.steps),
            "operations": operations, "step_results": steps, "findings": findings,
            "timing": {"elapsed_seconds": round(elapsed, 3), "driver_seconds": round(driver, 3),
                       "shares_created": self.shares_created,
                       "harness_ms_per_share": round((elapsed - driver) * 1000 / self.shares_created, 4)
                       if s.concurrency == 1 and self.shares_created else None}}
        if stopped:
            section["stopped"] = stopped
        if teardown is not None:
            section["teardown"] = teardown
        return section


_FAILED = object()
"""What _timed returns for a call that raised or timed out (None is a valid return value)."""


def _spread(items: list[Model], count: int) -> list[Model]:
    """Up to `count` items spread evenly over the list."""
    if len(items) <= count:
        return list(items)
    stride = len(items) / count
    return [items[int(i * stride)] for i in range(count)]


def _describe(exc: BaseException, limit: int = 300) -> str:
    if isinstance(exc, ContractViolation):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
