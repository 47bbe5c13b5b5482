"""Installing Python packages into a venv: by uv when it is there, by pip otherwise.

Why uv (a dependency of certkit): pip resolves, unpacks and byte-compiles one package at a time
in one process; uv downloads in parallel and links from its cache. Measured on this project's
2-core CI machine: Manila 22 and certkit into a fresh venv took pip 199 s, uv 56 s wall and
12 CPU s with a cold cache (docs/contributing/test-budget.md). pip stays the fallback: a venv
whose certkit lacks uv, or a uv that fails (its last line is shown before pip is tried).

uv ignores pip.conf; it gets the system's trust store (UV_NATIVE_TLS) so a TLS proxy that pip
trusts through the system CA bundle works for uv as well.

Bytecode: pip compiles every module at install time; uv does not unless asked. Where
PYTHONDONTWRITEBYTECODE is set (it is on this project's machines) Python then never writes a .pyc,
and every process compiles every module it imports from source again, Manila's thousands among
them. So installs compile by default (`compile_bytecode=False` for a venv used once).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Mapping, Sequence

from certkit.errors import CertkitError


def uv_binary() -> str | None:
    """uv, from certkit's venv (a dependency of certkit) or else the PATH; None when neither."""
    try:
        from uv import find_uv_bin
        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _last_line(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines()
             if ln.strip() and not ln.startswith("WARNING: Location")]
    errors = [ln for ln in lines if ln.startswith(("error:", "ERROR:", "×"))]
    return (errors or lines or ["no output"])[-1]


def _run(argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 1, f"no answer in {timeout:.0f} s"
    return proc.returncode, proc.stdout


def _with_native_tls(env: Mapping[str, str]) -> dict[str, str]:
    """env, with uv told to use the system's trust store unless the caller chose otherwise."""
    return {**env, "UV_NATIVE_TLS": env.get("UV_NATIVE_TLS", "1")}


def create_venv(target: Path, python: str, *, what: str,
                progress: Callable[[str], None] | None = None) -> Path:
    """A fresh venv at target (any old one removed) with pip in it, made by uv when it is
    there; its python."""
    uv = uv_binary()
    env = _with_native_tls(os.environ)
    if uv is not None:
        code, out = _run([uv, "venv", "-q", "--seed", "--clear", "--python", python, str(target)],
                         env, 300)
        if code == 0:
            return target / "bin" / "python"
        if progress:
            progress(f"{what}: uv venv failed ({_last_line(out)}); trying python -m venv")
    code, out = _run([python, "-m", "venv", "--clear", str(target)], env, 300)
    if code != 0:
        raise CertkitError(f"{what}: cannot create the venv {target}: {_last_line(out)}")
    return target / "bin" / "python"


def install(python: Path | str, packages: Sequence[str], *, what: str,
            progress: Callable[[str], None] | None = None, env: dict[str, str] | None = None,
            timeout: float = 1800, compile_bytecode: bool = True) -> str:
    """Install packages (pip's argument syntax: requirements, -e PATH, --no-deps...) into the
    environment of `python`; the tool that did it ("uv" or "pip"). Raises CertkitError naming
    `what` and the installer's last error line."""
    env = _with_native_tls(env or os.environ)
    uv = uv_binary()
    if uv is not None:
        compiling = ["--compile-bytecode"] if compile_bytecode else []
        code, out = _run([uv, "pip", "install", "-q", *compiling, "--python", str(python), *packages],
                         env, timeout)
        if code == 0:
            return "uv"
        if progress:
            progress(f"{what}: uv failed ({_last_line(out)}); trying pip")
    compiling = [] if compile_bytecode else ["--no-compile"]
    code, out = _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                      *compiling, *packages], env, timeout)
    if code != 0:
        raise CertkitError(f"{what}: pip install failed: {_last_line(out)}")
    return "pip"
