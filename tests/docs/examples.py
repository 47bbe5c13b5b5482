"""What the docs say: their shell examples, the commands in them, the paths and check UUIDs
they name. Pure parsing, shared by the docs tests (tests/docs/test_examples.py)."""

from __future__ import annotations

import argparse
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELL_LANGUAGES = ("console", "shell")
MARKERS = {"<!-- doc-test: run -->": "run", "<!-- doc-test: needs-lab -->": "needs-lab"}
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
CHECK_UUID = re.compile(r"@check\(\s*[\"']([0-9a-f-]{36})[\"']")
REPO_PATH = re.compile(r"(?<![\w./$~-])((?:certkit|suites|driver_profiles|ci|benchmarks|tests|docs)/[\w./*-]*)")
INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
GENERATED = ("docs/_build", "docs/reference", "docs/checks")
SEPARATORS = {"|", "||", "&&", ";", "&"}


def doc_files() -> list[Path]:
    """README.md and every Markdown page of the docs site (generated pages excluded)."""
    pages = [ROOT / "README.md"]
    for page in sorted((ROOT / "docs").rglob("*.md")):
        relative = page.relative_to(ROOT).as_posix()
        if not relative.startswith(GENERATED):
            pages.append(page)
    return pages


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    marker: str | None  # "run", "needs-lab", or None
    marker_problem: str | None  # e.g. two markers
    body: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def commands(self) -> list[str]:
        """The `$ ` lines, continuation lines (ending in a backslash) joined."""
        found: list[str] = []
        pending: str | None = None
        for raw in self.body:
            line = raw.strip()
            if pending is not None:
                pending += " " + line.rstrip("\\").strip()
                if not line.endswith("\\"):
                    found.append(pending)
                    pending = None
            elif line.startswith("$ "):
                text = line[2:].strip()
                if text.endswith("\\"):
                    pending = text.rstrip("\\").strip()
                else:
                    found.append(text)
        if pending:
            found.append(pending)
        return found


def blocks(page: Path) -> list[Block]:
    """Every fenced block of a page, with the doc-test marker that precedes it."""
    lines = page.read_text().splitlines()
    found = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        fence, language = match["fence"], match["info"].strip().split(" ")[0].strip("{}")
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        previous = [line.strip() for line in lines[:index] if line.strip()][-2:]
        marker = MARKERS.get(previous[-1]) if previous else None
        problem = None
        if marker and len(previous) == 2 and previous[0] in MARKERS:
            problem = "two doc-test markers before one block"
        found.append(Block(page, index + 1, language, marker, problem, tuple(lines[index + 1:end])))
        index = end + 1
    return found


def shell_blocks() -> list[Block]:
    return [b for page in doc_files() for b in blocks(page) if b.language in SHELL_LANGUAGES]


def prose(page: Path) -> str:
    """A page without its fenced blocks (their commands are checked as commands)."""
    text, inside = [], None
    for line in page.read_text().splitlines():
        match = FENCE.match(line)
        if match and (inside is None or match["fence"].startswith(inside)):
            inside = None if inside else match["fence"]
            continue
        if inside is None:
            text.append(line)
    return "\n".join(text)


def inline_code(page: Path) -> list[str]:
    return [m.group(2).strip() for m in INLINE_CODE.finditer(prose(page))]


# --- commands ----------------------------------------------------------------------------

def segments(command: str) -> list[list[str]]:
    """A shell line as simple commands (split at pipes, &&, ||, ;, &), env assignments dropped."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    result, current = [], []
    for token in lexer:
        if token in SEPARATORS:
            result.append(current)
            current = []
        else:
            current.append(token)
    result.append(current)
    cleaned = []
    for words in result:
        while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
            words = words[1:]
        if words:
            cleaned.append(words)
    return cleaned


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def certkit_problems(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """What in `certkit WORDS...` the parsers do not know: sub-commands and options."""
    problems, spelled, chose_sub = [], ["certkit"], False
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            action = parser._option_string_actions.get(name)
            if action is None:
                problems.append(f"`{' '.join(spelled)}` has no option {name}")
                continue
            if "=" in word or action.nargs == 0:
                continue
            if action.nargs in (None, 1):
                index += 1
            elif isinstance(action.nargs, int):
                index += action.nargs
            else:  # ?, *, +: values up to the next option
                while index < len(words) and not words[index].startswith("-"):
                    index += 1
            continue
        choices = subcommands(parser)
        if choices and not chose_sub:
            if word not in choices:
                problems.append(f"`{' '.join(spelled)}` has no sub-command {word!r}")
                return problems
            parser, chose_sub = choices[word], False
            spelled.append(word)
    if subcommands(parser) and not chose_sub and len(spelled) == 1 and not words:
        return problems
    return problems


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.MULTILINE))


def command_problems(parser: argparse.ArgumentParser, command: str) -> list[str]:
    """Unknown certkit sub-commands and options, unknown make targets, missing repository paths."""
    problems = []
    for words in segments(command):
        while words and words[0] in ("flock", "timeout", "sudo", "exec"):
            words = words[2:] if words[0] in ("flock", "timeout") else words[1:]
        if not words:
            continue
        program = words[0]
        if program == "certkit" or program.endswith("/bin/certkit"):
            problems += certkit_problems(parser, words[1:])
        elif program.endswith("python") or program.endswith("python3"):
            if len(words) > 2 and words[1] == "-m" and words[2] == "certkit.cli":
                problems += certkit_problems(parser, words[3:])
        elif program == "make":
            targets = make_targets()
            problems += [f"Makefile has no target {w!r}" for w in words[1:]
                         if "=" not in w and not w.startswith("-") and w not in targets]
        problems += path_problems(" ".join(words))
    return problems


def path_problems(text: str) -> list[str]:
    """Repository paths named in `text` that do not exist (placeholders and outputs skipped)."""
    problems = []
    for path in REPO_PATH.findall(text):
        path = path.rstrip(".,:;")
        if any(c in path for c in "<>{}") or "..." in path or path.startswith(GENERATED):
            continue
        if path.startswith("benchmarks/results/") and path.endswith(".json"):
            continue  # a benchmark's output: the {measured} role checks it at build time
        if not (list(ROOT.glob(path)) if "*" in path else (ROOT / path).exists()):
            problems.append(f"no such file or directory: {path}")
    return problems


def check_uuids() -> set[str]:
    """The UUIDs of every @check in suites/."""
    found: set[str] = set()
    for source in (ROOT / "suites").rglob("*.py"):
        found.update(CHECK_UUID.findall(source.read_text()))
    return found
