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
echo "bootstrap: installing certkit and its dependencies into $venv (about 30 s the first time)" >&2
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test,docs]" 2>&1 \
    | grep -v "^WARNING: Location 'file://" || true
"$venv/bin/python" -c 'import certkit, manila' || { echo "bootstrap: install failed" >&2; exit 1; }
