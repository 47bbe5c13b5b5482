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


def _by_method(audit):
    return {f.method: f for f in audit.signature_findings}


def test_drifted_signature_findings_come_from_binding_the_managers_calls():
    audit = audit_class(drivers.DriftedSignature)
    found = _by_method(audit)
    assert found["create_share"].severity == "error"
    assert "unexpected keyword argument 'share_server'" in found["create_share"].detail
    assert any(site.startswith("manila/share/manager.py:") for site in found["create_share"].sites)
    assert found["delete_share"].severity == "info" and found["delete_share"].kind == "renamed-parameter"
    assert found["extend_share"].severity == "error" and "'force'" in found["extend_share"].detail
    assert audit.features["share"] == "drift"
    assert audit.features["extend"] == "drift"
    assert audit.dhss_modes == [False]


def test_legacy_interfaces_and_declared_modes():
    audit = audit_class(drivers.LegacyAccess)
    assert any("allow_access/deny_access without update_access" in x for x in audit.legacy)
    assert any("ensure_share without ensure_shares" in x for x in audit.legacy)
    # allow_access implements access rules, but which types it accepts only a run can show.
    assert audit.features["access_ip"] == "unknown"
    assert audit.features["ensure_shares"] == "implemented"   # the manager falls back to ensure_share
    assert audit.dhss_modes == [False, True]


def test_vendor_base_counts_through_the_mro_and_stats_claims_are_checked():
    audit = audit_class(drivers.VendorDriver)
    assert audit.features["snapshot"] == "implemented"
    assert audit.features["revert_to_snapshot"] == "not-implemented"
    assert audit.stats_claims["revert_to_snapshot_support"] is True
    assert any("revert_to_snapshot_support=True but does not implement revert_to_snapshot" in x
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
    assert any("claims 'extend' but" in e and "VendorDriver does not implement it: extend_share is a "
               "NotImplementedError stub (manila/share/driver.py:" in e for e in drift.errors), drift.errors
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


def test_markdown_has_a_row_per_back_end(rows):
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


def test_every_profile_loads_and_names_are_unique():
    from certkit.profile import profile_names_unique

    paths = sorted((ROOT / "driver_profiles").glob("*.yaml"))
    assert len(paths) > 30
    for path in paths:
        load_profile(path)
    assert profile_names_unique(paths) == []


def test_every_profile_names_one_back_end_and_makes_no_false_claim():
    paths = sorted((ROOT / "driver_profiles").glob("*.yaml"))
    false_claims = {path.name: profile_drift(load_profile(path)).errors for path in paths}
    assert {k: v for k, v in false_claims.items() if v} == {}
    dell = [p for p in paths if load_profile(p).driver.endswith("EMCShareDriver")]
    assert sorted(load_profile(p).config["emc_share_backend"] for p in dell) == [
        "powerflex", "powermax", "powerscale", "powerstore", "unity", "vnx"]


# ----------------------------------------------------------------------------------- issue 11
import re  # noqa: E402
import stat  # noqa: E402

from certkit.audit import audit_rows  # noqa: E402
from certkit.audit.callprobe import BINDS, RAISES_TYPEERROR, probe_call  # noqa: E402
from certkit.audit.callshapes import CallShape, manager_call_shapes, shapes_by_method  # noqa: E402
from certkit.audit.class_audit import ClassAudit  # noqa: E402
from certkit.audit.docmap import compare_doc, parse_tables  # noqa: E402
from certkit.audit.render import md_code  # noqa: E402
from certkit.audit.signatures import method_findings  # noqa: E402
from certkit.catalogue import FEATURES  # noqa: E402
from certkit.files import PUBLIC_MODE, atomic_write  # noqa: E402

DOC_FIXTURE = ROOT / "tests" / "audit_fixtures" / "share_back_ends_feature_support_mapping.rst"
SITE = re.compile(r"[\w/.-]+\.py:\d+")


def test_call_shapes_are_read_from_the_installed_managers_source():
    import manila

    shapes = manager_call_shapes()
    assert len(shapes) > 80
    root = os.path.dirname(os.path.dirname(manila.__file__))
    for shape in shapes:                           # every site really holds that call
        lines = open(os.path.join(root, shape.file), encoding="utf-8").read().splitlines()
        text = "".join(lines[shape.line - 1:shape.line + 1])
        assert re.search(rf"self(\.driver)?\.{shape.method}\(", text), shape
    [create] = [s for s in shapes_by_method()["create_share"] if s.file.endswith("manager.py")]
    assert create.keywords == ("share_server",) and not create.conditional
    unmanage = shapes_by_method()["unmanage"]
    assert all(s.conditional and "dhss" in s.guard for s in unmanage)


def test_cached_call_shapes_equal_a_fresh_parse(tmp_path, monkeypatch):
    from certkit.audit import callshapes

    monkeypatch.setenv("CERTKIT_CACHE_DIR", str(tmp_path))
    root = callshapes._manila_root()
    fresh = callshapes._extract(root)
    callshapes._store(callshapes._cache_file(root), fresh)
    [cache] = list(tmp_path.iterdir())
    assert callshapes._load_cached(cache) == fresh == manager_call_shapes()
    cache.write_text("not json")                       # a damaged cache is ignored, not trusted
    assert callshapes._load_cached(cache) is None


def test_binding_follows_wrapped_and_binds_a_wrapper_without_wraps():
    audit = audit_class(drivers.BindingDriver)
    found = _by_method(audit)
    assert "extend_share" not in found or found["extend_share"].severity == "info"   # wrapper binds
    assert found["shrink_share"].severity == "error"                                 # wrapper drops share_server
    assert "create_backup" not in found or found["create_backup"].severity == "info"  # **kwargs binds
    assert found["create_snapshot"].severity == "error"                              # wraps followed
    assert found["delete_snapshot"].severity == "info"                               # renamed, positional
    assert found["share_server_migration_get_progress"].severity == "latent"         # stub
    assert audit.features["shrink"] == "drift" and audit.features["extend"] == "implemented"


def test_every_error_really_raises_typeerror_and_every_bound_shape_really_binds():
    """Precision measured by calling: the manager's shapes against each fixture override."""
    checked = 0
    for cls in (drivers.BindingDriver, drivers.DriftedSignature, drivers.EvidenceDriver):
        audit = audit_class(cls)
        errors = {f.method for f in audit.signature_findings if f.severity == "error"}
        for method in audit.overridden:
            shapes = [s for s in shapes_by_method().get(method, []) if not s.star]
            outcomes = {probe_call(getattr(cls, method), s.positional, s.keywords)[0] for s in shapes}
            if method in errors:
                assert RAISES_TYPEERROR in outcomes, (cls, method)
            elif shapes and method != "share_server_migration_get_progress":
                assert outcomes == {BINDS}, (cls, method, outcomes)
            checked += 1
    assert checked >= 12


def test_a_call_only_on_a_conditional_path_is_latent():
    def delete_share(self, context, share):
        pass

    hard = CallShape("delete_share", 2, ("share_server",), "manila/share/manager.py", 10, False)
    soft = CallShape("delete_share", 2, ("share_server",), "manila/share/manager.py", 20, True,
                     "except NotImplementedError")
    [finding] = method_findings("delete_share", delete_share, [soft])
    assert finding.severity == "latent" and "except NotImplementedError" in finding.detail
    [finding] = method_findings("delete_share", delete_share, [soft, hard])
    assert finding.severity == "error" and finding.sites == ("manila/share/manager.py:10",)


def test_features_only_with_evidence():
    audit = audit_class(drivers.EvidenceDriver)
    marks, why = audit.features, audit.evidence
    assert marks["manage_share"] == "implemented" and "unmanage base default manila/share/driver.py:" in why["manage_share"]
    assert marks["ensure_shares"] == "implemented" and "ensure_share" in why["ensure_shares"]
    assert marks["snapshot"] == "not-implemented" and "StubVendorBase" not in why["snapshot"]
    assert "NotImplementedError stub (" in why["snapshot"] and "drivers.py:" in why["snapshot"]
    assert marks["access_ip"] == "implemented" and re.search(r"'ip' \(.*drivers\.py:\d+\)", why["access_ip"])
    assert marks["access_user"] == marks["access_ro"] == "unknown"
    assert marks["qos"] == "not-implemented" and re.search(r"qos=False \(.*drivers\.py:\d+\)", why["qos"])
    assert audit.capabilities["thin_provisioning"][0] == "unknown"        # computed by a helper
    assert audit.capabilities["dedupe"][0] == "implemented"                 # [True, False]
    assert marks["ipv6"] == "implemented"
    other = audit_class(drivers.ComputedAccessDriver)
    assert {other.features[f"access_{t}"] for t in ("ip", "user", "cert", "cephx", "ro")} == {"unknown"}
    assert other.features["qos"] == "unknown"


def test_delegating_driver_has_one_row_per_layout_and_bases_are_not_rows():
    rows = {r.path.rsplit("= ", 1)[-1].rstrip("]"): r
            for r in audit_rows(resolve_target("tests.audit_fixtures.plugins"))}
    assert set(rows) == {"FullLayout", "PartialLayout"}
    full, partial = rows["FullLayout"], rows["PartialLayout"]
    assert full.delegate == "tests.audit_fixtures.plugins.FullLayout"
    assert full.features["shrink"] == "implemented" and "plugins.py:" in full.evidence["shrink"]
    assert partial.features["shrink"] == "not-implemented" and "PartialLayout" in partial.evidence["shrink"]
    assert partial.features["snapshot"] == "not-implemented"
    [forward] = [f for f in full.signature_findings if f.kind == "delegate-cannot-bind"]
    assert forward.severity == "error" and forward.method == "create_snapshot" and "plugins.py:" in forward.sites[0]
    assert full.features["snapshot"] == "drift"
    [base] = audit_rows(resolve_target("tests.audit_fixtures.plugins.LayoutDriverBase"))
    assert not base.imported and "not a configurable back end" in base.import_error


def test_an_import_that_hangs_is_a_finding():
    [failure] = resolve_target("tests.audit_fixtures.hanging", timeout=0.5)
    assert isinstance(failure, ImportFailure) and re.search(r"did not (finish|return) within 0.5 s",
                                                            failure.error), failure.error


def test_requested_targets_that_cannot_be_audited_exit_non_zero(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "certkit.cli", "audit", "--import-timeout", "1",
                           f"{FIXTURES}.hanging", f"{FIXTURES}.drivers.VendorDriver",
                           "--markdown", str(tmp_path / "m.md")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert re.search(r"did not (finish|return) within 1 s", proc.stdout) and "could not audit" in proc.stderr
    assert "VendorDriver" in (tmp_path / "m.md").read_text()


def test_markdown_and_html_escape_hostile_names():
    from tests.audit_fixtures import hostile

    [row] = audit_rows([hostile.Evil])
    bad = audit_failure(ImportFailure("x`|y", "boom | `tick` <script>"))
    text = to_markdown([row, bad])
    table = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(table) == 2
    for line in table:                       # a name never adds or removes a column
        assert len(re.split(r"(?<!\\)\|", line)) == len(FEATURES) + 4, line
    assert "<script>" not in text and "&lt;script&gt;" in text
    span = md_code("a``b|c")
    assert span.startswith("```") and span.endswith("```") and "\\|" in span
    page = to_html([row, bad])
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_generated_files_are_public_and_others_stay_private(tmp_path):
    old = os.umask(0)
    try:
        atomic_write(tmp_path / "matrix.html", "x", mode=PUBLIC_MODE)
        atomic_write(tmp_path / "report.json", "secret")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "matrix.html").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matrix.html", "report.json"]


def test_doc_tables_parse_with_grouped_headers_and_joined_rows():
    cells = parse_tables(DOC_FIXTURE.read_text())
    columns = {c.column for c in cells}
    assert {"Read & Write IPv4", "Read Only CephX", "DHSS=True", "create delete share"} <= columns
    rows = {c.doc_row for c in cells}
    assert {"Weka", "GlusterFS-Native", "Dell PowerFlex", "CephFS"} <= rows   # joined rst rows split
    found = [c for c in cells if c.doc_row == "CephFS" and c.column == "create share from snapshot"]
    assert [c.table for c in found] == ["Mapping of share drivers and share features support",
                                        "Mapping of share drivers and common capabilities"]
    assert found[1].value == "-" and found[1].supported is False and found[1].line > 300


def _row(path, features, evidence="x.py:1", dhss=(False,)):
    marks = {f.id: "not-implemented" for f in FEATURES} | features
    return ClassAudit(path, features=marks, evidence={k: evidence for k in marks}, dhss_modes=list(dhss),
                      capabilities={})


def test_doc_drift_lists_only_contradicted_cells_with_evidence():
    rows = [_row("manila.share.drivers.cephfs.driver.CephFSDriver",
                 {"share": "implemented", "create_from_snapshot": "implemented", "extend": "unknown",
                  "access_ro": "implemented", "access_cert": "implemented"}, evidence="cephfs/driver.py:9")]
    result = compare_doc(DOC_FIXTURE, rows)
    drift = {(d.cell.column, d.code) for d in result.drift}
    assert ("create share from snapshot", "implemented") in drift             # doc '-', code has it
    assert all(d.row == "cephfs.driver.CephFSDriver" for d in result.drift)
    assert all(d.evidence.endswith("cephfs/driver.py:9") for d in result.drift)
    assert not any(col.startswith("read only") for col, _ in drift)           # one-sided columns
    assert ("create delete share", "implemented") not in drift                 # doc agrees
    assert "Dell Unity" in result.unmatched_rows                               # no row given


def test_in_tree_audit_rows_evidence_and_doc_drift(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "certkit.cli", "audit", "--in-tree",
                           "--json", str(tmp_path / "a.json"), "--markdown", str(tmp_path / "a.md"),
                           "--compare-doc", str(DOC_FIXTURE)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "a.json").read_text())
    assert schema_errors(data, "audit.schema.json") == []
    rows = {d["class"].removeprefix("manila.share.drivers."): d for d in data["drivers"]}
    dell = {k.rsplit("= ", 1)[1].rstrip("]"): v for k, v in rows.items() if "emc_share_backend" in k}
    assert set(dell) == {"unity", "vnx", "powermax", "powerscale", "powerstore", "powerflex"}
    assert dell["unity"]["dhss_modes"] == [True, False] and dell["powerflex"]["dhss_modes"] == [False]
    assert dell["unity"]["features"]["shrink"] == "implemented" and dell["vnx"]["features"]["shrink"] == "not-implemented"
    assert any(k.startswith("huawei.huawei_nas.HuaweiNasDriver [") for k in rows)
    assert sum("glusterfs_share_layout" in k for k in rows) == 3
    assert not any("GlusterfsShareDriverBase" in k for k in rows)
    assert all(f["severity"] != "error" for d in data["drivers"] for f in d["signature_findings"])
    cephfs = rows["cephfs.driver.CephFSDriver"]
    assert cephfs["features"]["manage_share"] == "implemented" and cephfs["features"]["qos"] == "not-implemented"
    for d in data["drivers"]:                    # no ✓ without a cited line
        for fid, mark in d["features"].items():
            if mark == "implemented":
                assert SITE.search(d["evidence"][fid]), (d["class"], fid)
    assert data["call_shapes"]["create_share"][0]["site"].startswith("manila/share/")
    stale = {(d["doc_row"], d["column"]) for d in data["doc_drift"]}
    assert ("CephFS", "create share from snapshot") in stale and ("NexentaStor5", "Read & Write IPv6") in stale
    assert all(SITE.search(d["evidence"]) or "never" in d["evidence"] or "only" in d["evidence"]
               for d in data["doc_drift"])
    for name in ("a.json", "a.md"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


def test_profile_init_picks_the_back_end_config_selects(tmp_path):
    import argparse

    from certkit.commands.profile import init_command
    from certkit.errors import CertkitError

    out = tmp_path / "vnx.yaml"
    args = argparse.Namespace(driver="manila.share.drivers.dell_emc.driver.EMCShareDriver", name=None,
                              output=str(out), force=False, config=["emc_share_backend=vnx"])
    assert init_command(args) == 0
    profile = load_profile(out)
    assert profile.config["emc_share_backend"] == "vnx" and profile.dhss_modes == (True,)
    assert "shrink" not in profile.features and profile_drift(profile).errors == []
    args.config, args.force = ["emc_share_backend=nope"], True
    with pytest.raises(CertkitError, match="selects none of EMCShareDriver's back ends"):
        init_command(args)
