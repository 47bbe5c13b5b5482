#!/usr/bin/env bash
# Create the project's virtualenv and install certkit into it (editable).
# On a fresh Debian machine python3 may lack venv/ensurepip: install python3-venv when we can.
set -euo pipefail
python=${1:-python3}
venv=${2:-.venv}

if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "bootstrap: installing python3-venv (Debian)" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
        echo "bootstrap: $python has no venv/ensurepip; install python3-venv (as root: apt-get install python3-venv)" >&2
        exit 2
    fi
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "bootstrap: creating $venv" >&2
    "$python" -m venv "$venv"
fi
# uv (one of certkit's dependencies) installs the ~200 packages in a fraction of pip's time and
# CPU (certkit/pyinstall.py says why); pip installs uv itself, and is the fallback when uv fails.
# --compile-bytecode as pip does: with PYTHONDONTWRITEBYTECODE set, nothing would ever write them.
echo "bootstrap: installing certkit and its dependencies into $venv (about a minute the first time)" >&2
export UV_NATIVE_TLS="${UV_NATIVE_TLS:-1}"
# uv does not read pip's configuration: hand it pip's index when one is set (a Zuul node's
# pip.conf names the lab's mirror, its only package source).
index=$("$venv/bin/python" -m pip config list 2>/dev/null | sed -n "s/^.*\.index-url='\(.*\)'$/\1/p" | tail -1)
if [ -n "$index" ] && [ -z "${UV_DEFAULT_INDEX:-}" ]; then export UV_DEFAULT_INDEX="$index"; fi
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check "uv>=0.5" 2>&1 \
        | { grep -v "^WARNING: Location 'file://" || true; } \
   || ! "$venv/bin/uv" pip install -q --compile-bytecode --python "$venv/bin/python" -e ".[test,docs]"; then
    echo "bootstrap: uv could not install; trying pip" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test,docs]" 2>&1 \
        | grep -v "^WARNING: Location 'file://" || true
fi
"$venv/bin/python" -c 'import certkit, manila' || { echo "bootstrap: install failed" >&2; exit 1; }
