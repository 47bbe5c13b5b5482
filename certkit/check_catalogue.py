"""The check catalogue: every check of every suite (UUID, suite, feature, level, docstring), read
from the `@check(...)` decorators of the suite files with `ast`, so listing it imports no suite,
no driver and no Manila; and the docs page each check is explained on.

tests/test_check_catalogue.py compares this reading with a real pytest collection of the suites.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from certkit.contract.checks import LEVELS
from certkit.errors import CertkitError

DOCS_URL = "docs/_build/html"
"""Where the built docs site is: the relative path of `make docs`'s output by default."""
DOCS_URL_ENV = "CERTKIT_DOCS_URL"
"""Overrides DOCS_URL, e.g. https://certkit.example.org/docs."""
CORE_PAGE = "core"
"""The catalogue page of checks whose feature is not one fixed feature (resolved per variant)."""

JSON_KEYS = ("uuid", "name", "suite", "feature", "level", "doc")
"""The keys of `certkit checks --json` (the docs site builds its check pages from them)."""

CHECK_DECORATOR = "check"
PER_TEST_DECORATOR = "checks_per_test"


@dataclass(frozen=True)
class CatalogueEntry:
    """One check as the catalogue lists it (the JSON of `certkit checks --json`)."""

    uuid: str
    name: str
    suite: str
    feature: str | None
    """The feature that gates the check; None when it is resolved per variant (e.g.
    `access_{access_type}`: one check per claimed access type)."""
    level: str
    doc: str
    feature_pattern: str = ""
    """For a per-variant check, its feature as written (`access_{access_type}`); not in the JSON."""

    @property
    def page(self) -> str:
        """The catalogue page the check is on: its feature, or `core`."""
        return self.feature or CORE_PAGE

    def serves(self, feature: str) -> bool:
        """Whether the check counts for a feature (`core`: a per-variant check), e.g. a check of
        `access_{access_type}` counts for access_ip."""
        if feature in (self.feature, self.page):
            return True
        if not self.feature_pattern:
            return False
        pattern = re.sub(r"\\\{\w+\\\}", ".+", re.escape(self.feature_pattern))
        return re.fullmatch(pattern, feature) is not None


def suites_dir() -> Path:
    """The suites' directory (the repository's `suites/`, installed as `certkit.suites`)."""
    import certkit.suites

    return Path(certkit.suites.__file__).parent


def suite_names(root: Path | None = None) -> list[str]:
    """Suite names: the sub-packages of the suites directory that hold test files."""
    root = root or suites_dir()
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and (p / "__init__.py").exists() and any(p.glob("test_*.py")))


def _literal(node: ast.expr, where: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise CertkitError(f"{where}: @check arguments must be literals (the catalogue reads them "
                           "without importing the suite)") from None


def _decorator_name(node: ast.expr) -> str | None:
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def checks_in_file(path: Path, suite: str) -> list[CatalogueEntry]:
    """The checks a suite file defines, in file order (`@checks_per_test` tests carry outside
    tests' own ids, known only at run time, and are left out)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except SyntaxError as exc:
        raise CertkitError(f"{path}:{exc.lineno}: the suite file does not parse ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CertkitError(f"{path}: cannot read the suite file ({exc})") from None
    found = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.name.startswith("test"):
            continue
        calls = [d for d in node.decorator_list
                 if _decorator_name(d) == CHECK_DECORATOR and isinstance(d, ast.Call)]
        if not calls:
            continue
        call = calls[0]
        where = f"{path}:{call.lineno}"
        args = [_literal(a, where) for a in call.args]
        kwargs = {k.arg: _literal(k.value, where) for k in call.keywords if k.arg}
        params = dict(zip(("check_id", "feature", "level"), args)) | kwargs
        feature = str(params["feature"])
        found.append(CatalogueEntry(
            uuid=str(params["check_id"]), name=node.name, suite=suite,
            feature=None if "{" in feature else feature, level=str(params.get("level", LEVELS[0])),
            doc=" ".join((ast.get_docstring(node) or "").split()),
            feature_pattern=feature if "{" in feature else ""))
    return found


@lru_cache(maxsize=4)
def _collect(root: Path) -> tuple[CatalogueEntry, ...]:
    entries: list[CatalogueEntry] = []
    for suite in suite_names(root):
        for path in sorted((root / suite).glob("test_*.py")):
            entries += checks_in_file(path, suite)
    return tuple(entries)


def collect_checks(root: Path | None = None) -> list[CatalogueEntry]:
    """Every check of every suite: by suite, then file, then position in the file (the order a
    pytest collection of the suites gives)."""
    return list(_collect(root or suites_dir()))


def select(entries: Iterable[CatalogueEntry], *, features: Iterable[str] = (),
           suites: Iterable[str] = ()) -> list[CatalogueEntry]:
    """The entries that count for the given features (a per-variant check counts for each
    feature it can resolve to; `core`: the per-variant checks) and belong to the given suites
    (all when empty); an unknown feature or suite is a one-line error naming the valid ones."""
    from certkit.catalogue import FEATURES

    features, suites = list(features), list(suites)
    valid_features = [f.id for f in FEATURES] + [CORE_PAGE]
    valid_suites = suite_names()
    for value, valid, option in [(f, valid_features, "--feature") for f in features] + [
            (s, valid_suites, "--suite") for s in suites]:
        if value not in valid:
            raise CertkitError(f"{option}: unknown value {value!r} (valid: {', '.join(valid)})")
    return [e for e in entries if (not features or any(e.serves(f) for f in features))
            and (not suites or e.suite in suites)]


def as_json(entries: Iterable[CatalogueEntry]) -> list[dict[str, Any]]:
    """The catalogue as `certkit checks --json` prints it (the docs site's input)."""
    return [{key: getattr(e, key) for key in JSON_KEYS} for e in entries]


def docs_base(environ: Mapping[str, str] = os.environ) -> str:
    """The docs site's base URL: $CERTKIT_DOCS_URL, else DOCS_URL (no trailing slash)."""
    return (environ.get(DOCS_URL_ENV) or DOCS_URL).rstrip("/")


def page_url(page: str, environ: Mapping[str, str] = os.environ) -> str:
    """The URL of a catalogue page (a feature id or `core`)."""
    return f"{docs_base(environ)}/checks/{page}.html"


def check_docs_url(check_id: str, feature: str, environ: Mapping[str, str] = os.environ) -> str:
    """Where a check a run reported is explained: its catalogue entry, or, for a check the
    catalogue cannot list (manila-tempest-plugin's tests), the page of the feature it counted for.
    A suite file that does not parse (the run reports it) leaves the links at feature pages."""
    try:
        entry = by_uuid().get(check_id)
    except CertkitError:
        entry = None
    if entry is None:
        return page_url(feature or CORE_PAGE, environ)
    return f"{page_url(entry.page, environ)}#check-{entry.uuid}"


def by_uuid() -> Mapping[str, CatalogueEntry]:
    """The catalogue keyed by check UUID (read once per suites directory)."""
    return _index(suites_dir())


@lru_cache(maxsize=4)
def _index(root: Path) -> Mapping[str, CatalogueEntry]:
    return MappingProxyType({e.uuid: e for e in _collect(root)})
