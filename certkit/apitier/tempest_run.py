"""Run manila-tempest-plugin with `tempest run` against a target and read every test's result."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from certkit.errors import CertkitError
from certkit.manila_env import scripts_dir
from certkit.apitier.target import ApiTarget
from certkit.apitier.tempest_conf import tempest_conf_text, write_tempest_conf
from certkit.profile import Profile

DEFAULT_REGEX = r"manila_tempest_tests\.tests\.api"
ENV_REGEX = "CERTKIT_TEMPEST_REGEX"
ENV_WORKERS = "CERTKIT_TEMPEST_WORKERS"


@dataclass(frozen=True)
class TempestResult:
    """One tempest test: its id, outcome (passed/failed/skipped/error), message and time."""

    test_id: str
    outcome: str
    message: str
    duration: float


@dataclass
class TempestRun:
    """Every listed test with its result; tests that never reported are `error`. `teardowns`:
    the classes whose tearDownClass failed ({class path: message}): what their tests made was
    not all removed (a share the driver cannot delete, its share type still in use)."""

    results: list[TempestResult]
    wall_seconds: float
    workspace: Path
    regex: str
    teardowns: dict[str, str] = field(default_factory=dict)


def endpoint_facts(target: ApiTarget) -> tuple[tuple[str, str], str]:
    """((min, max) microversion, storage_protocol of the back end's first pool)."""
    sess = target.session()
    url = target.manila_url().rstrip("/")
    root = url[: url.rfind("/v2")] if "/v2" in url else url
    versions = sess.get(root + "/", authenticated=False, raise_exc=False).json().get("versions", [])
    v2 = next((v for v in versions if str(v.get("id", "")).startswith("v2")), None)
    if not v2:
        raise CertkitError(f"{root}: no v2 API in the version document")
    headers = {"X-OpenStack-Manila-API-Version": "2.23"}
    pools = sess.get(url + "/scheduler-stats/pools/detail", headers=headers,
                     raise_exc=False).json().get("pools", [])
    mine = [p for p in pools
            if (p.get("capabilities") or {}).get("share_backend_name") == target.backend]
    if not mine:
        raise CertkitError(f"{url}: the scheduler knows no pool of back end {target.backend!r} "
                           f"(pools: {', '.join(p['name'] for p in pools) or 'none'})")
    protocol = str(mine[0].get("capabilities", {}).get("storage_protocol", ""))
    return (str(v2.get("min_version") or "2.0"), str(v2["version"])), protocol


def worker_count(env: Mapping[str, str]) -> int:
    """$CERTKIT_TEMPEST_WORKERS, else two per core: the workers mostly wait on the services
    (4 on 2 cores was measured faster than 2)."""
    raw = env.get(ENV_WORKERS, "").strip()
    if not raw:
        return 2 * (os.cpu_count() or 2)
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise CertkitError(f"{ENV_WORKERS}: {raw!r} is not a number of workers from 1 to 64")
    return int(raw)


def _tempest_argv(args: list[str], conf: Path) -> list[str]:
    exe = scripts_dir() / "tempest"
    if not exe.exists():
        raise CertkitError(f"{exe}: tempest is not installed (`certkit lab up manila` installs it)")
    return [str(exe), "run", "--config-file", str(conf), *args]


def _tempest(args: list[str], workspace: Path, conf: Path, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(_tempest_argv(args, conf), cwd=workspace, **kwargs)


PROGRESS_SECONDS = 60.0
"""How often a running `tempest run` reports how many tests have finished."""


def _run_with_progress(argv: list[str], workspace: Path, subunit_path: Path, total: int,
                       say: Callable[[str], None]) -> int:
    """Run tempest writing its subunit stream to `subunit_path`; every PROGRESS_SECONDS say how
    many of `total` tests reported. The child is killed when this is interrupted (Ctrl-C, SIGTERM)."""
    start = time.perf_counter()
    with open(subunit_path, "wb") as out, open(workspace / "logs" / "tempest-run.log", "wb") as err:
        proc = subprocess.Popen(argv, cwd=workspace, stdout=out, stderr=err)
        try:
            while True:
                try:
                    return proc.wait(timeout=PROGRESS_SECONDS)
                except subprocess.TimeoutExpired:
                    out.flush()
                    done = parse_subunit(subunit_path)
                    failed = sum(r.outcome == "failed" for r in done.values())
                    say(f"tempest: {len(done)} of {total} reported ({failed} failed) after "
                        f"{time.perf_counter() - start:.0f} s")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def list_tests(workspace: Path, conf: Path, regex: str) -> list[str]:
    """The tests the regex selects (what must report a result)."""
    proc = _tempest(["--list-tests", "--regex", regex], workspace, conf, text=True,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise CertkitError(f"tempest run --list-tests failed: {tail}")
    return [ln.strip() for ln in proc.stdout.splitlines()
            if ln.strip().startswith("manila_tempest_tests.")]


def parse_subunit(path: Path) -> dict[str, TempestResult]:
    """Results by test id from a subunit v2 stream (setUpClass failures included)."""
    import subunit
    import testtools

    found: dict[str, TempestResult] = {}

    def on_test(test: dict[str, Any]) -> None:
        status = test["status"]
        outcome = {"success": "passed", "skip": "skipped", "fail": "failed",
                   "xfail": "passed", "uxsuccess": "failed"}.get(status)
        if outcome is None:
            return
        details = test.get("details") or {}
        message = ""
        for key in ("reason", "traceback"):
            if key in details:
                text = details[key].as_text().strip()
                message = text.splitlines()[-1] if key == "traceback" and text else text
                break
        stamps = [t for t in test.get("timestamps") or [] if t is not None]
        duration = (stamps[-1] - stamps[0]).total_seconds() if len(stamps) == 2 else 0.0
        found[test["id"]] = TempestResult(test["id"], outcome, message, duration)

    with open(path, "rb") as stream:
        result = testtools.StreamToDict(on_test)
        result.startTestRun()
        subunit.ByteStreamToStreamResult(stream, non_subunit_name="stdout").run(result)
        result.stopTestRun()
    return found


def class_outcomes(found: dict[str, TempestResult]) -> dict[str, TempestResult]:
    """`setUpClass (module.Class)` skips and failures, by class path: they stand for every
    test of the class (tempest reports no per-test result then)."""
    out = {}
    for test_id, result in found.items():
        if test_id.startswith("setUpClass (") and result.outcome in ("failed", "skipped"):
            out[test_id[test_id.index("(") + 1: -1]] = result
    return out


def teardown_failures(found: dict[str, TempestResult]) -> dict[str, str]:
    """{class path: message} of every `tearDownClass (module.Class)` tempest reported failed
    (no listed test stands for it: its tests had passed or failed on their own)."""
    return {test_id[test_id.index("(") + 1: -1]: result.message or "tearDownClass failed"
            for test_id, result in found.items()
            if test_id.startswith("tearDownClass (") and result.outcome == "failed"}


class TempestWorkspace:
    """A private tempest workspace (tempest.conf holds the admin password: 0600, removed by
    close() unless CERTKIT_KEEP_TEMPEST is set)."""

    def __init__(self, profile: Profile, target: ApiTarget, path: Path | None = None) -> None:
        self.path = path or Path(tempfile.mkdtemp(prefix="certkit-tempest-"))
        self.conf = self.path / "etc" / "tempest.conf"
        self.microversions, self.protocol = endpoint_facts(target)
        write_tempest_conf(self.conf, tempest_conf_text(profile, target, self.microversions,
                                                        self.protocol, self.path / "logs"))
        (self.path / "logs").mkdir(exist_ok=True)
        if not (self.path / ".stestr").exists():
            subprocess.run([str(scripts_dir() / "stestr"), "init"], cwd=self.path, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def list(self, regex: str | None = None) -> list[str]:
        """Plugin tests the regex ($CERTKIT_TEMPEST_REGEX, default: every API test) selects."""
        regex = regex or os.environ.get(ENV_REGEX) or DEFAULT_REGEX
        listed = list_tests(self.path, self.conf, regex)
        if not listed:
            raise CertkitError(f"tempest: the regex {regex!r} selects no manila-tempest-plugin test")
        return listed

    def run(self, tests: list[str], *, workers: int | None = None,
            progress: Callable[[str], None] | None = None) -> TempestRun:
        """`tempest run --load-list` over exactly these tests; every one gets a result."""
        say = progress or (lambda line: None)
        workers = workers or worker_count(os.environ)
        load_list = self.path / "tests.txt"
        load_list.write_text("".join(f"{t}\n" for t in tests))
        say(f"tempest: {len(tests)} tests, {workers} workers, API {self.microversions[0]}-"
            f"{self.microversions[1]}, storage protocol {self.protocol}")
        subunit_path = self.path / "results.subunit"
        start = time.perf_counter()
        argv = _tempest_argv(["--load-list", str(load_list), "--concurrency", str(workers),
                              "--subunit"], self.conf)
        returncode = _run_with_progress(argv, self.path, subunit_path, len(tests), say)
        wall = time.perf_counter() - start
        found = parse_subunit(subunit_path)
        results = complete_results(tests, found, returncode, self.path)
        counts = {o: sum(r.outcome == o for r in results) for o in ("passed", "failed", "skipped", "error")}
        say(f"tempest: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} "
            f"skipped, {counts['error']} without a result, in {wall:.0f} s")
        teardowns = teardown_failures(found)
        if teardowns:
            say(f"tempest: {len(teardowns)} class(es) failed in tearDownClass (left objects behind)")
        return TempestRun(results, wall, self.path, f"{len(tests)} tests", teardowns)

    def close(self) -> None:
        """Remove the workspace (it holds the admin password)."""
        if not os.environ.get("CERTKIT_KEEP_TEMPEST"):
            shutil.rmtree(self.path, ignore_errors=True)


def complete_results(tests: list[str], found: dict[str, TempestResult], exit_code: int,
                     workspace: Path) -> list[TempestResult]:
    """One result per listed test: its own, its class's setUpClass skip/failure, or `error`."""
    by_class = class_outcomes(found)
    results = []
    for test_id in tests:
        if test_id in found:
            results.append(found[test_id])
            continue
        cls = test_id.split("[", 1)[0].rsplit(".", 1)[0]
        cause = by_class.get(cls)
        if cause is not None and cause.outcome == "skipped":
            results.append(TempestResult(test_id, "skipped", cause.message, 0.0))
        elif cause is not None:
            results.append(TempestResult(test_id, "error", f"setUpClass of {cls} failed: {cause.message}", 0.0))
        else:
            results.append(TempestResult(
                test_id, "error", f"tempest reported no result (tempest exit {exit_code}; logs in "
                f"{workspace / 'logs'} with CERTKIT_KEEP_TEMPEST=1)", 0.0))
    return results


def run_tempest(profile: Profile, target: ApiTarget, *, regex: str | None = None,
                workers: int | None = None, progress: Callable[[str], None] | None = None) -> TempestRun:
    """List and run the selected plugin tests in a throw-away workspace (benchmarks use it)."""
    workspace = TempestWorkspace(profile, target)
    try:
        return workspace.run(workspace.list(regex), workers=workers, progress=progress)
    finally:
        workspace.close()
