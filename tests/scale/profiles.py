"""Profiles for the scale tests: a shipped profile with a `scale:` block (and another driver)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import ROOT


def scale_profile(tmp_path: Path, base: str = "manila-dummy.yaml", *, driver: str | None = None,
                  profile_concurrency: int | None = None, **scale: object) -> Path:
    """`driver_profiles/<base>` with a scale block (and optionally another driver class)."""
    data = yaml.safe_load((ROOT / "driver_profiles" / base).read_text())
    data["scale"] = scale
    if driver:
        data["driver"] = driver
    if profile_concurrency:
        data["concurrency"] = profile_concurrency
    path = tmp_path / f"scale-{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
