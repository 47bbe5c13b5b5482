"""Configuration templates shipped as package data (certkit/lab/templates/<kind>/<file>).

`$name` placeholders are filled with string.Template; `$$` writes a literal `$` (ceph.conf's own
`$name` metavariable).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template

from certkit.lab.processes import LabError


def render(kind: str, name: str, /, **values: object) -> str:
    """The template `kind/name` with every placeholder filled (a missing value is an error)."""
    text = resources.files("certkit.lab").joinpath("templates", kind, name).read_text()
    try:
        return Template(text).substitute({k: str(v) for k, v in values.items()})
    except KeyError as exc:
        raise LabError(f"lab template {kind}/{name}: no value for ${exc.args[0]}") from None


def write(path: Path, kind: str, name: str, /, mode: int = 0o644, **values: object) -> Path:
    """Render a template into `path` (replacing it atomically)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render(kind, name, **values))
    tmp.chmod(mode)
    tmp.replace(path)
    return path
