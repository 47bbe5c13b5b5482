"""ci.yaml a vendor can write right: Zuul's matching for branches and files, globs that are no
regular expression refused with the key named, every key documented with its default."""

from __future__ import annotations

import pytest

from certkit.ci.config import (DEFAULT_RECHECK, CIConfigError, ProjectFilter, load_ci_config,
                               schema_default)
from certkit.schema_check import load_schema
from tests.ci.conftest import write_ci_config


def _filters(tmp_path, gerrit, **project) -> ProjectFilter:
    path = write_ci_config(tmp_path, gerrit, pipeline={
        "projects": [{"name": "openstack/manila", **project}], "jobs": ["noop"]})
    return load_ci_config(path).pipeline.projects["openstack/manila"]


def test_branches_and_files_match_as_in_zuul(tmp_path, gerrit):
    # Zuul's BranchMatcher/FileMatcher: re.match, anchored at the start only.
    project = _filters(tmp_path, gerrit, branches=["master", "stable/*"],
                       files=["manila/share/", r".*\.py$"])
    assert project.branch_matches("stable/2026.1") and project.branch_matches("master")
    assert not project.branch_matches("feature/stable") and not project.branch_matches("")
    assert project.file_matches(["manila/share/api.py"]) and project.file_matches(["x/y.py"])
    assert not project.file_matches(["doc/manila/share/x.rst", "/COMMIT_MSG"])


@pytest.mark.parametrize("key, pattern", [("files", "*.py"), ("branches", "*"),
                                          ("files", "manila/[share")])
def test_a_glob_that_is_no_regular_expression_is_refused_naming_the_key(tmp_path, gerrit, key,
                                                                         pattern):
    with pytest.raises(CIConfigError) as info:
        _filters(tmp_path, gerrit, **{key: [pattern]})
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'ci.yaml'}: pipeline.projects[0].{key}: not a valid "
                              "regular expression")
    assert "\n" not in message


def _leaves(node, path=()):
    for key, sub in node.get("properties", {}).items():
        yield path + (key,), sub, key in node.get("required", [])
        target = sub["items"] if sub.get("type") == "array" and "properties" in sub.get(
            "items", {}) else sub
        yield from _leaves(target, path + (key,))


def test_every_key_has_a_description_and_its_default():
    schema = load_schema("ci_config.schema.json")
    assert schema["description"]
    for path, node, required in _leaves(schema):
        where = ".".join(path)
        assert node.get("description"), f"{where}: no description"
        if required or node.get("type") == "object" or "properties" in node:
            continue
        described = any(word in node["description"] for word in ("Default:", "No default"))
        assert "default" in node or described, f"{where}: no default"


def test_loader_defaults_are_the_schema_defaults(tmp_path, gerrit):
    config = load_ci_config(write_ci_config(tmp_path, gerrit, backoff=None, report=None))
    assert config.report.retry_initial == schema_default("report", "retry_initial")
    assert config.report.give_up_after == schema_default("report", "give_up_after")
    assert config.report.log_url == schema_default("report", "log_url")
    assert config.pipeline.recheck.pattern == schema_default("pipeline", "recheck") == DEFAULT_RECHECK
    assert config.backoff_max == schema_default("backoff", "max")
    assert config.gerrit.keepalive == schema_default("gerrit", "keepalive")
