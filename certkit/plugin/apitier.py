"""The API suite's side of the plugin: its fixtures (the target Manila, a tempest.lib client),
its parameters (claimed capabilities, access levels), and manila-tempest-plugin's tests as
checks: listed at collection, run once with `tempest run` after `-k` and feature gating, each
check then reporting its own test's result.

Levels: a test tempest ran (passed or failed) is `required`; a test tempest skipped is a skip
at `recommended` level (tempest.conf is generated from the claims, so a claimed feature whose
tests were all skipped has no required check and stays unverified); a test listed in the
suite's known_failures.yaml is `recommended` with its outcome kept and the reason in its message;
so is a test listed in superseded.yaml, which names the certkit check that asserts what the test
means to (a plugin test out of date with the Manila it runs against), and that check is required.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest
import yaml

from certkit.apitier.specs import claimed_capability_specs
from certkit.apitier.target import ApiTarget, from_environment
from certkit.apitier.tempest_features import base_name, feature_of, idempotent_id
from certkit.apitier.tempest_run import TempestResult, TempestWorkspace
from certkit.contract.checks import check
from certkit.errors import CertkitError
from certkit.plugin.fixtures import certification_run
from certkit.session import CertificationRun

if TYPE_CHECKING:  # tempest.lib is imported only when the API suite runs
    from certkit.apitier.client import ManilaClient

TEMPEST_PARAM = "tempest_test"
RESULT_KEY = pytest.StashKey[tuple[TempestResult, str]]()
KNOWN_FAILURES = "known_failures.yaml"
SUPERSEDED = "superseded.yaml"


def api_target(run: CertificationRun) -> ApiTarget:
    """The runner's target, else an OS_* cloud (plain pytest), else a one-line error."""
    if run.api_target is not None:
        return run.api_target
    target = from_environment(run.profile, os.environ)
    if target is None:
        raise CertkitError("no Manila to test: run `certkit lab up manila --profile "
                           f"{run.profile.path}` or set OS_AUTH_URL, OS_USERNAME, OS_PASSWORD "
                           "and OS_PROJECT_NAME")
    run.api_target = target
    return target


@pytest.fixture(scope="session")
def target(certkit_run: CertificationRun) -> ApiTarget:
    """The Manila the API suite sends its requests to."""
    return api_target(certkit_run)


@pytest.fixture
def api(target: ApiTarget, certkit_run: CertificationRun) -> Iterator["ManilaClient"]:
    """A tempest.lib Manila client; what a check creates is deleted after it (also on failure).
    On a DHSS=True back end its shares go on a share network of the check's own."""
    from certkit.apitier.client import ManilaClient

    client = ManilaClient(target, build_timeout=certkit_run.profile.timeouts["status_poll"],
                          build_interval=0.5)
    try:
        if target.dhss:
            client.share_network_id = client.create_share_network(
                f"certkit-{secrets.token_hex(4)}")["id"]
        yield client
    finally:
        client.cleanup()
        for kind, obj_id, error in client.undeleted:  # e.g. a share stuck in error_deleting
            certkit_run.ledger.record_leak(kind, obj_id, obj_id, certkit_run.profile.redact(error))


@pytest.fixture
def tempest_result(request: pytest.FixtureRequest, tempest_test: str) -> tuple[TempestResult, str]:
    """(tempest's result for this check's test, the message to report)."""
    try:
        return request.node.stash[RESULT_KEY]
    except KeyError:
        raise CertkitError("tempest did not run this test (collection ended early)") from None


class TempestBridge:
    """Lists the plugin's tests at collection and runs the selected ones once."""

    def __init__(self, run: CertificationRun) -> None:
        self.run = run
        self.workspace: TempestWorkspace | None = None

    def parametrize(self, metafunc: pytest.Metafunc) -> None:
        """One check per listed tempest test, keyed by its idempotent id."""
        profile = self.run.profile
        if self.workspace is None:
            self.workspace = TempestWorkspace(profile, api_target(self.run))
            metafunc.config.add_cleanup(self.workspace.close)
        params = [pytest.param(test_id, id=test_id,
                               marks=[check(idempotent_id(test_id), feature_of(test_id, profile.claimed))])
                  for test_id in self.workspace.list()]
        metafunc.parametrize(TEMPEST_PARAM, params)

    def attach(self, items: list[pytest.Item]) -> dict[str, str]:
        """Run the selected, ungated tempest tests; stash each result; {nodeid: level}."""
        mine = [i for i in items if TEMPEST_PARAM in getattr(i, "fixturenames", ())
                and not i.get_closest_marker("skip")]
        if not mine or self.workspace is None:
            return {}
        tests = [i.callspec.params[TEMPEST_PARAM] for i in mine]
        suite = Path(str(mine[0].path)).parent
        try:
            ran = self.workspace.run(tests, progress=self.run.progress)
            results = ran.results
            for cls, message in ran.teardowns.items():  # what its tests made was left behind
                self.run.ledger.record_leak("tempest class", cls, cls.rsplit(".", 1)[-1],
                                            f"tearDownClass failed: {self.run.profile.redact(message)}")
            facts = api_target(self.run).facts()
            known = known_failures(suite / KNOWN_FAILURES, facts)
            replaced = superseded(suite / SUPERSEDED, facts)
        except CertkitError as exc:  # each check says why it has no result
            results, known, replaced = [TempestResult(t, "error", str(exc), 0.0) for t in tests], {}, {}
        levels = {}
        for item, result in zip(mine, results):
            reason = known_reason(replaced, result.test_id)
            label = f"superseded ({SUPERSEDED})"
            if not reason:
                reason, label = known_reason(known, result.test_id), f"known environment failure ({KNOWN_FAILURES})"
            message = result.message
            if reason:
                message = f"{label}: {reason}" + (f"; tempest: {message}" if message else "")
            item.stash[RESULT_KEY] = (result, message)
            levels[item.nodeid] = "recommended" if reason or result.outcome == "skipped" else "required"
        return levels


WHEN_KEYS = ("database", "manila", "plugin")
"""What an entry's `when` may name: the database server (a name), the Manila and the
manila-tempest-plugin releases (PEP 440 specifiers such as `>=23.0.1`)."""


def applies(when: dict[str, str], facts: dict[str, str]) -> bool:
    """Whether every condition holds; an unknown fact (an OS_* cloud's database) holds none."""
    from packaging.specifiers import SpecifierSet

    for key, wanted in when.items():
        have = facts.get(key, "")
        if not have:
            return False
        if key == "database" and have != wanted:
            return False
        if key != "database" and have not in SpecifierSet(wanted):
            return False
    return True


def _reviewed(path: Path, facts: dict[str, str] | None, keys: tuple[str, ...]) -> list[dict[str, str]]:
    """The entries of a reviewed list (each with `keys`, `when` optional) whose `when` holds
    for `facts` (every entry when `facts` is None, for reviews); a one-line error naming the file."""
    if not path.exists():
        return []
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        entries = yaml.safe_load(path.read_text()) or []
        for e in entries:
            when = e.get("when") or {}
            unknown = set(when) - set(WHEN_KEYS)
            if unknown or not isinstance(when, dict):
                raise KeyError(f"`when` may name only {', '.join(WHEN_KEYS)}")
            for key in ("manila", "plugin"):
                if key in when:
                    SpecifierSet(str(when[key]))
        return [{k: " ".join(str(e[k]).split()) for k in keys} for e in entries
                if facts is None or applies({k: str(v) for k, v in (e.get("when") or {}).items()}, facts)]
    except (yaml.YAMLError, TypeError, KeyError, AttributeError, InvalidSpecifier) as exc:
        raise CertkitError(f"{path}: every entry needs {' and '.join(f'`{k}`' for k in keys)}, and "
                           f"`when` only {', '.join(WHEN_KEYS)} ({exc})") from None


def known_failures(path: Path, facts: dict[str, str] | None = None) -> dict[str, str]:
    """{tempest test id without [..]: reason} from the suite's reviewed list of tests that fail
    because of the test environment."""
    return {e["test"]: e["reason"] for e in _reviewed(path, facts, ("test", "reason"))}


def superseded(path: Path, facts: dict[str, str] | None = None) -> dict[str, str]:
    """{tempest test id without [..]: why, and the certkit check that replaces it} from the
    suite's reviewed list of plugin tests out of date with the Manila they run against."""
    return {e["test"]: f"{e['reason']} Replaced by the required certkit check {e['by']}."
            for e in _reviewed(path, facts, ("test", "by", "reason"))}


def known_reason(known: dict[str, str], test_id: str) -> str | None:
    """The reviewed reason a tempest test fails here: listed itself, or its class is."""
    test = base_name(test_id)
    return known.get(test) or known.get(test.rsplit(".", 1)[0])


def parametrize_api(metafunc: pytest.Metafunc, run: CertificationRun) -> None:
    """`capability`: each claimed feature a share type can ask for; `access_level`: the profile's."""
    if "capability" in metafunc.fixturenames:
        metafunc.parametrize("capability", sorted(claimed_capability_specs(run.profile)) or ["share"])
    if "access_level" in metafunc.fixturenames:
        metafunc.parametrize("access_level", list(run.profile.access_levels))


BRIDGE_KEY = pytest.StashKey[TempestBridge]()


def bridge_of(config: pytest.Config) -> TempestBridge:
    """The session's bridge (one per pytest session)."""
    run = certification_run(config)
    bridge = config.stash.get(BRIDGE_KEY, None)
    if bridge is None:
        bridge = config.stash[BRIDGE_KEY] = TempestBridge(run)
    return bridge

