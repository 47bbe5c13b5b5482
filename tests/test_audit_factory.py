"""`certkit audit` and `certkit profile init` on a driver factory (NetApp's NetAppDriver): the
class is resolved as Manila's share manager would build it, and the output names it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from certkit.audit.discover import ImportFailure, resolve_named

ROOT = Path(__file__).resolve().parents[1]
FACTORY = "manila.share.drivers.netapp.common.NetAppDriver"
CMODE = "manila.share.drivers.netapp.dataontap.cluster_mode"


@pytest.mark.parametrize("dhss, built", [
    ("True", f"{CMODE}.drv_multi_svm.NetAppCmodeMultiSvmShareDriver"),
    ("False", f"{CMODE}.drv_single_svm.NetAppCmodeSingleSvmShareDriver"),
])
def test_the_factory_builds_the_class_manila_would(dhss, built):
    classes, choice = resolve_named(FACTORY, config={"driver_handles_share_servers": dhss})
    assert choice is not None and choice.resolved_path == built
    assert classes == [choice.resolved]
    assert choice.options["driver_handles_share_servers"] is (dhss == "True")  # oslo's coercion
    assert choice.options["netapp_storage_family"] == "ontap_cluster"  # the option's default


@pytest.mark.parametrize("config, words", [
    ({}, "driver_handles_share_servers is not set"),
    ({"driver_handles_share_servers": "False", "netapp_storage_family": "eseries"},
     "Storage family eseries is not supported"),
])
def test_a_configuration_the_factory_refuses_is_its_own_words(config, words):
    classes, choice = resolve_named(FACTORY, config=config)
    assert choice is None and isinstance(classes[0], ImportFailure)
    assert words in classes[0].error and "--config KEY=VALUE" in classes[0].error


def test_profile_init_and_audit_say_which_class_they_audited(tmp_path, capsys):
    """In-process (manila's NetApp modules are imported once for the three commands)."""
    from certkit.cli import main

    def _certkit(*args: str) -> subprocess.CompletedProcess:
        code = main(list(args))
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    out = tmp_path / "netapp.yaml"
    init = _certkit("profile", "init", FACTORY, "--config", "driver_handles_share_servers=False",
                    "-o", str(out))
    assert init.returncode == 0, init.stderr
    single = f"{CMODE}.drv_single_svm.NetAppCmodeSingleSvmShareDriver"
    assert f"{FACTORY} is a driver factory" in init.stderr and f"profile of {single}" in init.stderr
    text = out.read_text()
    profile = yaml.safe_load(text)
    assert profile["driver"] == single and profile["driver_handles_share_servers"] is False
    assert profile["config"]["netapp_storage_family"] == "ontap_cluster"
    assert f"manila.conf names the factory {FACTORY}" in text
    audit = _certkit("audit", FACTORY, "--config", "driver_handles_share_servers=False")
    assert audit.returncode == 0, audit.stderr
    assert f"audited {single}" in audit.stdout and "1 audited" in audit.stdout
    refused = _certkit("profile", "init", FACTORY)
    assert refused.returncode == 2
    assert "driver_handles_share_servers is not set" in refused.stderr
    assert "Traceback" not in refused.stderr
