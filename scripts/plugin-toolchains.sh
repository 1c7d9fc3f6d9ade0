#!/usr/bin/env bash
# Installs the pinned toolchains that build JavaScript and Python plugins,
# from the package registries only (npm and PyPI), idempotently:
#   tools/js/node_modules        componentize-js + jco (tools/js/package-lock.json)
#   tools/python/.venv           componentize-py (tools/python/requirements.txt)
# A second run with nothing changed takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "plugin-toolchains: $1 is required ($2)" >&2
    exit 1
  }
}

# JavaScript: reinstall when the lock file changed since the last install.
need node "Node.js 20 or later, for JavaScript plugins"
need npm "npm, for JavaScript plugins"
js_stamp=tools/js/node_modules/.premia-lock.sha256
js_want=$(sha256sum tools/js/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$js_stamp" 2>/dev/null)" != "$js_want" ]; then
  echo "plugin-toolchains: installing the JavaScript toolchain (npm install, versions from package-lock.json)"
  (cd tools/js && npm install --no-audit --no-fund --loglevel=error)
  echo "$js_want" >"$js_stamp"
fi

# Python: a venv with the pinned componentize-py.
need python3 "CPython 3.11 or later with venv and pip, for Python plugins"
py_venv=tools/python/.venv
py_stamp=$py_venv/.premia-requirements.sha256
py_want=$(sha256sum tools/python/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$py_stamp" 2>/dev/null)" != "$py_want" ] || [ ! -x "$py_venv/bin/componentize-py" ]; then
  echo "plugin-toolchains: installing the Python toolchain (pip, into $py_venv)"
  rm -rf "$py_venv"
  python3 -m venv "$py_venv"
  "$py_venv/bin/pip" install --quiet --disable-pip-version-check -r tools/python/requirements.txt
  echo "$py_want" >"$py_stamp"
fi
