#!/usr/bin/env bash
# Build .venv-zuul: Zuul's configuration parser (zuul 14.3.0) for `ci/zuul-validator/validate.py`.
# Zuul's full dependency set (about 270 packages, ten minutes to resolve on 2 cores) is not
# needed to parse configuration: only what zuul/configloader.py imports, pinned, --no-deps.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-$here/../../.venv-zuul}"
python="${PYTHON:-python3}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import zuul.configloader' 2>/dev/null; then
    exit 0
fi
# A pip that can install into another interpreter (pip >= 22.3, --python) spares the venv its
# own pip: ensurepip cost as much CPU as the 28 wheels (22 s -> 12 s CPU in all, `make test`).
if "$python" -c 'import pip, sys; sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (22, 3))' \
        2>/dev/null; then
    "$python" -m venv --without-pip "$venv"
    pip=("$python" -m pip --python "$venv/bin/python")
else
    "$python" -m venv "$venv"
    pip=("$venv/bin/python" -m pip)
fi
"${pip[@]}" install -q --disable-pip-version-check --no-deps \
    -r "$here/requirements.txt" 2>&1 | grep -v "^WARNING: Location" || true
"$venv/bin/python" -c 'import zuul.configloader' || { echo "zuul-validator: install failed" >&2; exit 1; }
