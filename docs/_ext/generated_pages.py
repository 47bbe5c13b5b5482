"""Reference pages generated at build time from the code, never committed as copies.

- reference/cli.md: every `certkit` sub-command from the argparse parsers (certkit.cli.build_parser)
- reference/schema-<name>.md: the report, profile, audit, CI config, scale and explore JSON Schemas
  (certkit/schemas/), one row per property: type, required, default, description
- checks/<feature>.md: the check catalogue from `certkit checks --json`, one page per feature,
  each check an anchor `check-<uuid>`

Pages are written into the source tree on `builder-inited` (before Sphinx looks for sources),
only when their text changed, so an incremental build stays incremental.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

SCHEMAS = {
    "report": "The report `certkit run --report` writes and the dashboard ingests.",
    "profile": "A driver profile (`driver_profiles/*.yaml`).",
    "audit": "The static audit `certkit audit --json` writes.",
    "ci_config": "The third-party CI listener's configuration (`certkit ci listen --config`).",
    "scale": "The `scale` section of a report (`--suite scale`).",
    "explore": "The `explore` section of a report (`--suite explore`).",
}
CORE = "core"


def write_if_changed(path: Path, text: str) -> None:
    """Write `text` unless the file already holds it (keeps Sphinx's incremental build)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def remove_stale(directory: Path, keep: Iterable[Path]) -> None:
    """Delete generated pages that no longer correspond to anything (a renamed feature)."""
    keep = {p.resolve() for p in keep}
    for page in directory.glob("*.md"):
        if page.resolve() not in keep:
            page.unlink()


def cell(text: Any) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


# --- the CLI reference -------------------------------------------------------------------

def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """A parser's sub-command parsers, by name, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def option_line(action: argparse.Action) -> str:
    """One bullet for an argument: its spelling, what it takes, its help and default."""
    if action.option_strings:
        spelled = ", ".join(action.option_strings)
        if action.nargs != 0:
            metavar = action.metavar or action.dest.upper()
            spelled += f" {metavar if isinstance(metavar, str) else ' '.join(metavar)}"
    else:
        spelled = action.metavar or action.dest
    text = f"- `{spelled}`"
    help_text = (action.help or "").replace("%(default)s", str(action.default)).replace("%%", "%")
    if help_text and help_text != argparse.SUPPRESS:
        text += f": {' '.join(help_text.split())}"
    default = action.default
    if (action.option_strings and action.nargs != 0 and default not in (None, argparse.SUPPRESS, [], "")
            and "default" not in help_text.lower()):
        text += f" (default: `{default}`)"
    return text


def command_section(name: str, parser: argparse.ArgumentParser, level: int) -> list[str]:
    """The Markdown of one command and, below it, its sub-commands."""
    lines = [f"{'#' * level} `{name}`", ""]
    if parser.description:
        lines += [" ".join(parser.description.split()), ""]
    usage = parser.format_usage().strip().removeprefix("usage: ")
    lines += ["```text", usage, "```", ""]
    arguments = [a for a in parser._actions
                 if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))
                 and a.help != argparse.SUPPRESS]
    if arguments:
        lines += [option_line(a) for a in arguments] + [""]
    for child, sub in subcommands(parser).items():
        lines += command_section(f"{name} {child}", sub, min(level + 1, 4))
    return lines


def cli_page(parser: argparse.ArgumentParser) -> str:
    lines = ["# Command-line reference", "",
             "Generated from certkit's argparse parsers (`certkit.cli.build_parser`) when the docs "
             "are built: every sub-command and option `certkit` accepts, as `--help` shows them.", ""]
    usage = parser.format_usage().strip().removeprefix("usage: ")
    lines += ["```text", usage, "```", ""]
    for name, sub in subcommands(parser).items():
        lines += command_section(f"certkit {name}", sub, 2)
    return "\n".join(lines).rstrip() + "\n"


# --- the schema reference ----------------------------------------------------------------

def type_of(schema: dict) -> str:
    """A schema's type in words: `string`, `array of string`, `boolean or array of boolean`."""
    if "$ref" in schema:
        target = schema["$ref"].removesuffix(".schema.json")
        return f"[{target}](schema-{target}.md)"
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            return " or ".join(type_of(s) for s in schema[combinator])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array" and isinstance(schema.get("items"), dict):
        kind = f"array of {type_of(schema['items'])}"
    if "enum" in schema:
        kind += ": one of " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    return kind


def property_rows(schema: dict, prefix: str = "") -> Iterable[tuple[str, dict, bool]]:
    """(dotted path, schema, required) for every property, depth first."""
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path, sub, name in required
        yield from nested_rows(sub, path)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        path = f"{prefix}<key>"
        yield path, extra, False
        yield from nested_rows(extra, path)
    for pattern, sub in schema.get("patternProperties", {}).items():
        path = f"{prefix}<{pattern}>"
        yield path, sub, False
        yield from nested_rows(sub, path)


def nested_rows(schema: dict, path: str) -> Iterable[tuple[str, dict, bool]]:
    """Rows below an object, or below the objects of an array."""
    if schema.get("type") == "object" or "properties" in schema:
        yield from property_rows(schema, f"{path}.")
    items = schema.get("items")
    if isinstance(items, dict) and (items.get("type") == "object" or "properties" in items):
        yield from property_rows(items, f"{path}[].")
    for combinator in ("oneOf", "anyOf"):
        for option in schema.get(combinator, []):
            if option.get("type") == "object" or "properties" in option:
                yield from property_rows(option, f"{path}.")


def inline_local_refs(node: Any, root: dict, depth: int = 0) -> Any:
    """The schema with every `#/$defs/...` reference replaced by what it names (other files'
    references stay, and become links to their own page)."""
    if depth > 20:
        return node
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part]
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return inline_local_refs(merged, root, depth + 1)
        return {k: inline_local_refs(v, root, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [inline_local_refs(v, root, depth + 1) for v in node]
    return node


def schema_page(name: str, purpose: str, schema: dict) -> str:
    schema = inline_local_refs(schema, schema)
    lines = [f"# Schema: {schema.get('title', name)}", "",
             f"{purpose} Rendered from `certkit/schemas/{name}.schema.json` when the docs are built; "
             "that file is what certkit validates against.", ""]
    if schema.get("description"):
        lines += [" ".join(schema["description"].split()), ""]
    lines += ["| property | type | required | default | description |", "|---|---|---|---|---|"]
    for path, sub, required in property_rows(schema):
        default = f"`{json.dumps(sub['default'])}`" if "default" in sub else ""
        lines.append(f"| `{cell(path)}` | {cell(type_of(sub))} | {'yes' if required else 'no'} | "
                     f"{cell(default)} | {cell(sub.get('description', ''))} |")
    return "\n".join(lines) + "\n"


# --- the check catalogue -----------------------------------------------------------------

def checks_from_command(parser: argparse.ArgumentParser) -> list[dict] | None:
    """`certkit checks --json`, or None when this certkit has no `checks` sub-command."""
    if "checks" not in subcommands(parser):
        return None
    done = subprocess.run([sys.executable, "-m", "certkit.cli", "checks", "--json"],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"`certkit checks --json` exited {done.returncode}: {done.stderr.strip()}")
    return json.loads(done.stdout)


def checks_from_sources(suites: Path) -> list[dict]:
    """The fallback while `certkit checks` does not exist: the @check decorators of suites/."""
    found = []
    for path in sorted(suites.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                if not (isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "check"):
                    continue
                args = [a.value for a in decorator.args if isinstance(a, ast.Constant)]
                keywords = {k.arg: k.value.value for k in decorator.keywords
                            if isinstance(k.value, ast.Constant)}
                found.append({
                    "uuid": args[0], "name": node.name,
                    "suite": path.relative_to(suites).parts[0],
                    "feature": args[1] if len(args) > 1 else keywords.get("feature"),
                    "level": args[2] if len(args) > 2 else keywords.get("level", "required"),
                    "doc": ast.get_docstring(node) or "",
                })
    return found


def feature_slug(feature: str | None) -> str:
    """The page name of a feature: `core` for none; a template's braces dropped."""
    if not feature:
        return CORE
    return feature.replace("{", "").replace("}", "")


def catalogue_pages(checks: list[dict]) -> dict[str, str]:
    """Page name -> Markdown, one page per feature plus the index.

    A UUID listed more than once (one entry per resolved feature of a parametrised check) gets
    one entry, on its first feature's page, naming the others: an anchor exists once."""
    unique: dict[str, dict] = {}
    for entry in checks:
        first = unique.setdefault(entry["uuid"], {**entry, "also": []})
        if first is not entry and entry.get("feature") != first.get("feature"):
            first["also"].append(entry.get("feature") or CORE)
    checks = list(unique.values())
    by_feature: dict[str, list[dict]] = {}
    for entry in checks:
        by_feature.setdefault(feature_slug(entry.get("feature")), []).append(entry)
    pages = {}
    for slug, entries in sorted(by_feature.items()):
        feature = entries[0].get("feature") or CORE
        lines = [f"# Checks: {feature}", "",
                 f"{len(entries)} check(s) of feature `{feature}`, generated from the code. A report's "
                 "failure names the check's UUID; `certkit run PROFILE -k UUID` runs that check alone.", ""]
        for entry in sorted(entries, key=lambda e: (e["suite"], e["name"])):
            lines += [f"(check-{entry['uuid']})=", f"## `{entry['name']}`", "",
                      f"- UUID: `{entry['uuid']}`",
                      f"- suite: `{entry['suite']}`, level: `{entry['level']}`"]
            if entry["also"]:
                lines.append("- also for: " + ", ".join(f"`{f}`" for f in sorted(set(entry["also"]))))
            lines.append("")
            if entry.get("doc"):
                lines += [" ".join(entry["doc"].split()), ""]
        pages[slug] = "\n".join(lines).rstrip() + "\n"
    index = ["# Check catalogue", "",
             "Every check certkit runs, by feature, generated from the code when the docs are built "
             f"({len(checks)} checks). Each check keeps its UUID for life. A check parametrised by "
             "protocol, access type, DHSS mode or replication type runs once per variant, so a report "
             "lists more check results than this catalogue has checks; manila-tempest-plugin's API "
             "tests (`--suite api`) are reported under their own tempest ids and are not listed here.",
             "",
             "| feature | checks | required |", "|---|---|---|"]
    for slug, entries in sorted(by_feature.items()):
        feature = entries[0].get("feature") or CORE
        required = sum(1 for e in entries if e["level"] == "required")
        index.append(f"| [{cell(feature)}]({slug}.md) | {len(entries)} | {required} |")
    index += ["", "```{toctree}", ":hidden:", ":glob:", "", "*", "```"]
    pages["index"] = "\n".join(index) + "\n"
    return pages


# --- Sphinx hook -------------------------------------------------------------------------

def generate(app: Sphinx) -> None:
    docs = Path(app.srcdir)
    root = docs.parent
    from certkit.cli import build_parser  # the installed certkit of this checkout

    parser = build_parser()
    reference = docs / "reference"
    pages = {reference / "cli.md": cli_page(parser)}
    for name, purpose in SCHEMAS.items():
        schema = json.loads((root / "certkit" / "schemas" / f"{name}.schema.json").read_text())
        pages[reference / f"schema-{name}.md"] = schema_page(name, purpose, schema)
    pages[reference / "index.md"] = "\n".join([
        "# Reference", "", "Generated from the code at build time: the command line and the JSON "
        "Schemas certkit validates its inputs and outputs against.", "",
        "```{toctree}", ":maxdepth: 1", "", "cli",
        *(f"schema-{name}" for name in SCHEMAS), "```", ""])

    checks = checks_from_command(parser)
    if checks is None:
        logger.info("certkit has no `checks` sub-command yet: check catalogue built from the "
                    "@check decorators in suites/")
        checks = checks_from_sources(root / "suites")
    for slug, text in catalogue_pages(checks).items():
        pages[docs / "checks" / f"{slug}.md"] = text

    for path, text in pages.items():
        write_if_changed(path, text)
    for directory in (reference, docs / "checks"):
        remove_stale(directory, pages)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", generate)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
