"""A certkit command imports only its own module: its start-up (every certkit subprocess, in the
tests and in CI jobs) pays for no other command's imports, and parses exactly as before."""

from __future__ import annotations

import contextlib
import io
import pkgutil
import subprocess
import sys

from certkit import commands
from certkit.cli import build_parser
from tests.conftest import ROOT

COMMANDS = sorted(i.name for i in pkgutil.iter_modules(commands.__path__) if i.name != "explore_options")


def _parse(command: str | None, argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            build_parser(command).parse_args(argv)
        except SystemExit as exc:
            out.write(f"exit {exc.code}")
    return out.getvalue()


def test_one_commands_parser_is_the_whole_parsers_for_that_command():
    for name in COMMANDS:
        for argv in ([name, "--help"], [name], [name, "--no-such-option"]):
            assert _parse(name, argv) == _parse(None, argv), argv


def test_a_light_command_imports_neither_pytest_nor_hypothesis():
    code = ("import sys, certkit.cli\n"
            "try:\n    certkit.cli.main(['dashboard', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted({'pytest', 'hypothesis', 'jsonschema'} & set(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("[]"), proc.stdout[-500:]
