"""The check catalogue (`certkit checks`): read from the code, equal to what pytest collects, every
check with its own UUID; and the docs link each reported check carries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from certkit import cli, pytest_plugin
from certkit.catalogue import FEATURES_BY_ID
from certkit.check_catalogue import (CORE_PAGE, DOCS_URL, DOCS_URL_ENV, CatalogueEntry, as_json,
                                     check_docs_url, checks_in_file, collect_checks)
from certkit.contract.checks import LEVELS, check_info
from certkit.errors import CertkitError
from certkit.plugin.hooks import CertkitPlugin, suite_of
from certkit.runner import available_suites, pytest_args
from certkit.session import CertificationRun
from tests.conftest import ROOT

JSON_KEYS = ["uuid", "name", "suite", "feature", "level", "doc"]


def test_every_check_has_a_uuid_a_known_feature_a_level_and_a_docstring():
    entries = collect_checks()
    seen: dict[str, str] = {}
    for e in entries:
        where = f"{e.suite}/{e.name}"
        assert str(uuid.UUID(e.uuid)) == e.uuid, where
        assert e.uuid not in seen, f"{where} reuses the UUID of {seen[e.uuid]}"
        seen[e.uuid] = where
        assert e.feature is None or e.feature in FEATURES_BY_ID, where
        assert e.level in LEVELS and e.doc, where
    assert {e.suite for e in entries} == set(available_suites())
    assert len(entries) >= 70


class Collected:
    """Records what a collection run collected (after the certkit plugin gated it)."""

    def __init__(self) -> None:
        self.items: list[pytest.Item] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)


def test_the_catalogue_is_what_pytest_collects(dummy_profile):
    """The AST reading equals a real collection of every suite (the API suite's tempest bridge,
    whose checks are manila-tempest-plugin's tests listed from a live Manila, left out)."""
    collected = Collected()
    tempest = ROOT / "suites" / "api" / "test_tempest.py"
    args = pytest_args(available_suites(), None) + ["--collect-only", "--ignore", str(tempest)]
    run = CertificationRun(dummy_profile)
    exit_code = pytest.main(args, plugins=[pytest_plugin, CertkitPlugin(run), collected])
    assert exit_code == 0 and not run.collection_errors, run.collection_errors
    from_collection = {}
    for item in collected.items:
        info = check_info(item)
        feature = None if "{" in info.feature else info.feature
        from_collection.setdefault(info.id, (item.originalname, suite_of(item), feature, info.level))
    from_catalogue = {e.uuid: (e.name, e.suite, e.feature, e.level) for e in collect_checks()}
    assert from_catalogue == from_collection
    order = list(dict.fromkeys(check_info(i).id for i in collected.items))
    assert [e.uuid for e in collect_checks()] == order


def test_a_check_with_computed_arguments_is_refused_by_name(tmp_path):
    path = tmp_path / "test_x.py"
    path.write_text("from certkit.contract.checks import check\nID = 'x'\n\n"
                    "@check(ID, 'share')\ndef test_x():\n    '''Doc.'''\n")
    with pytest.raises(CertkitError, match=r"test_x.py:4: @check arguments must be literals"):
        checks_in_file(path, "contract")


def test_a_suite_file_that_does_not_parse_is_one_line_and_reports_keep_their_links(tmp_path,
                                                                                   monkeypatch):
    (tmp_path / "contract").mkdir()
    (tmp_path / "contract" / "__init__.py").write_text("")
    (tmp_path / "contract" / "test_broken.py").write_text("def test_x(:\n")
    with pytest.raises(CertkitError, match=r"^\S+/contract/test_broken.py:1: the suite file does "
                                           r"not parse \(.*\)$"):
        collect_checks(tmp_path)
    import certkit.check_catalogue

    monkeypatch.setattr(certkit.check_catalogue, "suites_dir", lambda: tmp_path)
    assert check_docs_url(str(uuid.uuid4()), "share").endswith("/checks/share.html")


def test_checks_json_lists_the_catalogue_with_exactly_the_agreed_keys(capsys):
    assert cli.main(["checks", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == as_json(collect_checks())
    assert all(list(entry) == JSON_KEYS for entry in listed)
    assert any(entry["feature"] is None for entry in listed)


def test_checks_filters_by_feature_and_suite(capsys):
    assert cli.main(["checks", "--json", "--feature", "snapshot", "--suite", "contract"]) == 0
    listed = json.loads(capsys.readouterr().out)
    fixed = as_json(e for e in collect_checks() if e.feature == "snapshot" and e.suite == "contract")
    assert fixed and [e for e in listed if e["feature"] is not None] == fixed
    # plus the per-variant check of every claimed feature ({claimed_feature}), no other
    assert [e["name"] for e in listed if e["feature"] is None] == ["test_claim_backed_by_capabilities"]
    assert cli.main(["checks", "--json", "--feature", CORE_PAGE]) == 0
    core = json.loads(capsys.readouterr().out)
    assert core and all(entry["feature"] is None for entry in core)
    # a feature's checks include the per-variant ones that count for it (access_{access_type})
    assert cli.main(["checks", "--json", "--feature", "access_ip", "--suite", "contract"]) == 0
    access = json.loads(capsys.readouterr().out)
    assert {e["name"] for e in access} >= {"test_add_and_delete_rule", "test_recovery_mode_sync"}, access
    assert all(e["feature"] in ("access_ip", None) for e in access)
    assert not any(e["name"] == "test_create_and_delete_share" for e in access)


def test_a_per_variant_check_counts_for_each_feature_it_can_resolve_to():
    access = CatalogueEntry("u", "test_x", "contract", None, "required", "", "access_{access_type}")
    assert access.serves("access_ip") and access.serves("access_cephx") and access.serves(CORE_PAGE)
    assert not access.serves("share") and not access.serves("access_")
    fixed = CatalogueEntry("u", "test_y", "contract", "extend", "required", "")
    assert fixed.serves("extend") and not fixed.serves("shrink") and not fixed.serves(CORE_PAGE)


@pytest.mark.parametrize("option,value,valid", [("--feature", "teleport", "share_groups"),
                                                ("--suite", "nosuch", "contract, datapath")])
def test_an_unknown_feature_or_suite_is_one_line_naming_the_valid_values(capsys, option, value, valid):
    assert cli.main(["checks", option, value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{option}: unknown value {value!r}" in err and valid in err, err


def test_the_table_shows_every_check_with_its_docstring(capsys):
    assert cli.main(["checks", "--suite", "scale"]) == 0
    out = capsys.readouterr().out
    scale = [e for e in collect_checks() if e.suite == "scale"]
    assert out.splitlines()[0].split() == ["UUID", "SUITE", "FEATURE", "LEVEL", "CHECK"]
    for e in scale:
        row = next(line for line in out.splitlines() if line.startswith(e.uuid))
        assert row.split() == [e.uuid, "scale", e.feature or e.feature_pattern, e.level, e.name]
        assert e.doc.split()[0] in out
    assert out.rstrip().endswith(f"{len(scale)} checks (scale {len(scale)})")


def test_listing_loads_no_driver_no_manila_and_no_suite():
    code = ("import sys; from certkit.cli import main; main(['checks', '--json']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('manila', 'suites') "
            "or m.startswith('certkit.suites.')), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "[]"
    assert len(json.loads(proc.stdout)) == len(collect_checks())


# -- docs links --------------------------------------------------------------------------------
def test_a_reported_check_links_to_its_catalogue_entry(monkeypatch):
    fixed = next(e for e in collect_checks() if e.feature == "snapshot")
    per_variant = next(e for e in collect_checks() if e.feature is None)
    monkeypatch.delenv(DOCS_URL_ENV, raising=False)
    assert check_docs_url(fixed.uuid, "snapshot") == (
        f"{DOCS_URL}/checks/snapshot.html#check-{fixed.uuid}")
    # a per-variant check is on the core page, whatever feature its variant counted for
    assert check_docs_url(per_variant.uuid, "access_ip").endswith(
        f"/checks/{CORE_PAGE}.html#check-{per_variant.uuid}")
    # manila-tempest-plugin's tests are not in the catalogue: the page of their feature
    assert check_docs_url(str(uuid.uuid4()), "share") == f"{DOCS_URL}/checks/share.html"
    monkeypatch.setenv(DOCS_URL_ENV, "https://certkit.example.org/docs/")
    assert check_docs_url(fixed.uuid, "snapshot") == (
        f"https://certkit.example.org/docs/checks/snapshot.html#check-{fixed.uuid}")


def test_catalogue_entry_page():
    assert CatalogueEntry("u", "test_x", "contract", None, "required", "").page == CORE_PAGE
    assert CatalogueEntry("u", "test_x", "contract", "extend", "required", "").page == "extend"
