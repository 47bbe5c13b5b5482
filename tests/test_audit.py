"""Static audit: each finding type on a purpose-built class, outputs, drift and scaffolding."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from certkit.audit import audit_class, audit_failure, profile_drift, resolve_target
from certkit.audit.discover import ImportFailure
from certkit.audit.render import to_html, to_json, to_markdown
from certkit.audit.scaffold import render_profile
from certkit.profile import load_profile
from certkit.schema_check import schema_errors
from tests.audit_fixtures import drivers
from tests.conftest import ROOT

FIXTURES = "tests.audit_fixtures"


def _kinds(audit):
    return {(f.method, f.kind) for f in audit.signature_findings}


def test_drifted_signature_findings():
    audit = audit_class(drivers.DriftedSignature)
    assert ("create_share", "dropped-share-server") in _kinds(audit)
    assert ("delete_share", "renamed-parameter") in _kinds(audit)
    assert ("extend_share", "extra-required-parameter") in _kinds(audit)
    assert audit.features["share"] == "drift"
    assert audit.features["extend"] == "drift"
    assert audit.dhss_modes == [False]


def test_legacy_interfaces_and_declared_modes():
    audit = audit_class(drivers.LegacyAccess)
    assert any("allow_access/deny_access without update_access" in x for x in audit.legacy)
    assert any("ensure_share without ensure_shares" in x for x in audit.legacy)
    assert audit.features["access_ip"] == "implemented"   # via the legacy alternative
    assert audit.dhss_modes == [False, True]


def test_vendor_base_counts_through_the_mro_and_stats_claims_are_checked():
    audit = audit_class(drivers.VendorDriver)
    assert audit.features["snapshot"] == "implemented"
    assert audit.features["revert_to_snapshot"] == "not-implemented"
    assert audit.stats_claims["revert_to_snapshot_support"] is True
    assert any("revert_to_snapshot_support=True but does not redefine revert_to_snapshot" in x
               for x in audit.claim_findings)


def test_unimportable_module_is_a_finding_not_a_crash():
    [failure] = resolve_target(f"{FIXTURES}.unimportable")
    assert isinstance(failure, ImportFailure)
    assert "acme_storage_sdk" in failure.error
    row = audit_failure(failure)
    assert not row.imported and set(row.features.values()) == {"cannot-import"}


def test_false_claim_is_an_error_and_unclaimed_implementation_a_note(tmp_path):
    path = tmp_path / "vendor.yaml"
    path.write_text(f"""name: vendor
vendor: ACME
driver: {FIXTURES}.drivers.VendorDriver
driver_handles_share_servers: false
protocols: [NFS]
access_types: {{NFS: [ip]}}
features: [share, extend]
""")
    drift = profile_drift(load_profile(path))
    assert any("claims 'extend' but VendorDriver does not redefine extend_share" in e
               for e in drift.errors), drift.errors
    assert any("implements 'snapshot', which the profile does not claim" in n for n in drift.notes)
    proc = subprocess.run([sys.executable, "-m", "certkit.cli", "run", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "false claim" in proc.stdout and "checks: 0 passed" in proc.stdout.replace("0 checks: ", "checks: ")


def test_dhss_mode_the_class_does_not_declare_is_a_false_claim(tmp_path):
    path = tmp_path / "dhss.yaml"
    path.write_text(f"""name: dhss
vendor: ACME
driver: {FIXTURES}.drivers.VendorDriver
driver_handles_share_servers: [false, true]
protocols: [NFS]
features: [share]
""")
    drift = profile_drift(load_profile(path))
    assert any("driver_handles_share_servers: True is not a mode" in e for e in drift.errors)


def test_embedded_profile_has_no_false_claims(dummy_profile):
    assert profile_drift(dummy_profile).errors == []


@pytest.fixture(scope="module")
def rows():
    targets = resolve_target(f"{FIXTURES}.drivers") + resolve_target(f"{FIXTURES}.unimportable")
    return [audit_class(t) if isinstance(t, type) else audit_failure(t) for t in targets]


def test_json_matches_schema(rows):
    assert schema_errors(to_json(rows), "audit.schema.json") == []


def test_html_escapes_hostile_strings_and_is_self_contained(rows):
    hostile = audit_failure(ImportFailure('<script>alert("x")</script>', "<img src=x onerror=alert(1)>"))
    page = to_html([*rows, hostile])
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page      # no CDN
    assert page.count("<script>") == 1                              # only the sorter
    assert "manila " in page and "legend" in page


def test_markdown_has_a_row_per_driver(rows):
    text = to_markdown(rows)
    assert text.count("\n| `") == len(rows)


def test_profile_init_writes_a_loadable_profile(tmp_path):
    out = tmp_path / "p.yaml"
    proc = subprocess.run([sys.executable, "-m", "certkit.cli", "profile", "init",
                           f"{FIXTURES}.drivers.VendorDriver", "-o", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    profile = load_profile(out)
    assert set(profile.features) == {"share", "snapshot"}
    assert profile.dhss_modes == (False,)
    again = subprocess.run([sys.executable, "-m", "certkit.cli", "profile", "init",
                            f"{FIXTURES}.drivers.VendorDriver", "-o", str(out)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert again.returncode == 2 and "already exists" in again.stderr


def test_profile_init_lists_driver_options_as_comments():
    from manila.share.drivers.zfsonlinux.driver import ZFSonLinuxShareDriver

    text = render_profile(ZFSonLinuxShareDriver)
    assert "#   zfs_dataset_name_prefix: manila_share_" in text
    assert "features: [" in text


def test_in_tree_audit_accounts_for_every_driver(tmp_path):
    html_path = tmp_path / "matrix.html"
    proc = subprocess.run([sys.executable, "-m", "certkit.cli", "audit", "--in-tree", "--html",
                           str(html_path), "--json", str(tmp_path / "a.json")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "a.json").read_text())
    classes = {d["class"] for d in data["drivers"]}
    assert "manila.share.drivers.cephfs.driver.CephFSDriver" in classes
    assert len(classes) >= 30
    assert html_path.read_text().count("<tr>") == len(data["drivers"]) + 1


def test_every_profile_loads_and_names_are_unique():
    from certkit.profile import profile_names_unique

    paths = sorted((ROOT / "driver_profiles").glob("*.yaml"))
    assert len(paths) > 30
    for path in paths:
        load_profile(path)
    assert profile_names_unique(paths) == []
