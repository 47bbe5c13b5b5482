"""Docs that cannot rot: every shell example is run or checked, and every command, option,
make target, repository path and check UUID a doc names exists (GUIDE: "Shell examples in
docs"). Examples are parsed by tests/docs/examples.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from certkit.cli import build_parser
from tests.docs import examples
from tests.docs.examples import ROOT

OUTPUT_OPTIONS = {"-o", "--output", "--report", "--junit-xml", "--json", "--html", "--markdown", "--plot"}
SANDBOX_SKIP = {".git", "reports", "lab"}
RUN_TIMEOUT = 300  # seconds for one command; they take a few seconds on an idle machine


@pytest.fixture(scope="module")
def parser():
    return build_parser()


def outputs(block: examples.Block) -> set[str]:
    """Paths a block's commands write (after -o, --report, ...): they need not exist before."""
    written = set()
    for command in block.commands():
        for words in examples.segments(command):
            written.update(value for option, value in zip(words, words[1:]) if option in OUTPUT_OPTIONS)
    return written


def test_every_shell_example_has_one_marker():
    unmarked = [f"{b.where}: ```{b.language} block without a doc-test marker line before it"
                for b in examples.shell_blocks() if b.marker is None]
    doubled = [f"{b.where}: {b.marker_problem}" for b in examples.shell_blocks() if b.marker_problem]
    assert not unmarked + doubled, "\n".join(unmarked + doubled)


def test_run_examples_have_commands():
    empty = [b.where for b in examples.shell_blocks() if b.marker == "run" and not b.commands()]
    assert not empty, f"`run` blocks without a `$ ` line: {empty}"


def test_commands_options_targets_and_paths_exist(parser):
    """Every example (run and needs-lab) and every `certkit ...` in running text."""
    problems = []
    for block in examples.shell_blocks():
        created = outputs(block)
        for command in block.commands() or [line for line in block.body if line.strip()]:
            problems += [f"{block.where}: {p}" for p in examples.command_problems(parser, command)
                         if not any(p.endswith(f": {c}") for c in created)]
    for page in examples.doc_files():
        where = page.relative_to(ROOT)
        for code in examples.inline_code(page):
            problems += [f"{where}: `{code}`: {p}" for p in examples.path_problems(code)]
            if code.startswith("certkit ") and not any(c in code for c in "|[<…") and "..." not in code:
                problems += [f"{where}: `{code}`: {p}"
                             for p in examples.command_problems(parser, code)]
    assert not problems, "\n".join(problems)


def test_named_check_uuids_exist():
    known = examples.check_uuids()
    assert len(known) > 50, "no @check UUIDs found in suites/: the pattern no longer matches"
    unknown = [f"{page.relative_to(ROOT)}: {uuid}" for page in examples.doc_files()
               for uuid in examples.UUID.findall(page.read_text()) if uuid not in known]
    assert not unknown, "docs name check UUIDs that are not in suites/:\n" + "\n".join(unknown)


def run_commands() -> list[tuple[str, str]]:
    """(where, command) of every `$ ` line of the `run` blocks, each distinct command once."""
    seen, found = set(), []
    for block in examples.shell_blocks():
        if block.marker != "run":
            continue
        for command in block.commands():
            if command not in seen:
                seen.add(command)
                found.append((block.where, command))
    return found


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A scratch working directory that sees the checkout's files through links (reports/ and
    whatever a command writes land in the scratch directory, never in the checkout)."""
    root = tmp_path_factory.mktemp("doc-examples")
    for entry in ROOT.iterdir():
        if entry.name not in SANDBOX_SKIP:
            (root / entry.name).symlink_to(entry)
    return root


@pytest.mark.parametrize(("where", "command"), run_commands(), ids=[w for w, _ in run_commands()])
def test_run_example(where, command, sandbox):
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["bash", "-c", command], cwd=sandbox, env=env, text=True,
                          capture_output=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (f"{where}: `{command}` exited {done.returncode}\n"
                                  f"{done.stdout[-1500:]}\n{done.stderr[-1500:]}")


def test_every_page_starts_with_a_title():
    untitled = [str(page.relative_to(ROOT)) for page in examples.doc_files()
                if not page.read_text().startswith("# ")]
    assert not untitled, f"pages that do not start with a `# Title` line: {untitled}"
