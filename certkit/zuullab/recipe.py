"""The vendor recipe (docs/zuul/vendor-setup.md) as files: each fenced block preceded by a
`<!-- zuul-recipe: PATH -->` line is the content of PATH (main.yaml, zuul-config/...).

The lab builds its Zuul from these blocks and the tests read them from the same page, so the
documentation a vendor follows is the configuration that is run."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from certkit.errors import CertkitError

RECIPE = Path("docs") / "zuul" / "vendor-setup.md"
_BLOCK = re.compile(r"^<!-- zuul-recipe: (?P<path>[\w./-]+) -->\n```(?P<lang>\w*)\n(?P<body>.*?)^```$",
                    re.MULTILINE | re.DOTALL)


def recipe_path() -> Path:
    """The recipe page in the certkit source tree this code runs from."""
    return Path(__file__).resolve().parents[2] / RECIPE


def recipe_files(page: Path | None = None) -> dict[str, str]:
    """{relative path: content} of every recipe block; each YAML block must parse."""
    page = page or recipe_path()
    try:
        text = page.read_text()
    except OSError as exc:
        raise CertkitError(f"{page}: cannot read the Zuul recipe ({exc.strerror}); the zuul lab "
                           "runs from a certkit source tree") from None
    files: dict[str, str] = {}
    for match in _BLOCK.finditer(text):
        path, body = match["path"], match["body"]
        if path in files:
            raise CertkitError(f"{page}: zuul-recipe {path} appears twice")
        if path.endswith((".yaml", ".yml")):
            try:
                yaml.safe_load(body)
            except yaml.YAMLError as exc:
                raise CertkitError(f"{page}: zuul-recipe {path} is not YAML: "
                                   f"{str(exc).splitlines()[0]}") from None
        files[path] = body
    if "main.yaml" not in files:
        raise CertkitError(f"{page}: no zuul-recipe block for main.yaml (the tenant)")
    return files
