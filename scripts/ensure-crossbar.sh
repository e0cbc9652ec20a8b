#!/usr/bin/env bash
# Prints the path of a crossbar executable: a virtualenv with the pinned Crossbar from PyPI, cached.
set -euo pipefail
CROSSBAR_PIN="${AUTHD_CROSSBAR_VERSION:-26.10.1}"
CACHE="${WAMP_AUTHD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wamp-authd}"
venv="$CACHE/crossbar-$CROSSBAR_PIN"
if [ ! -x "$venv/bin/crossbar" ] || ! "$venv/bin/crossbar" version >/dev/null 2>&1; then
  py="${PYTHON:-python3}"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || { echo "ensure-crossbar: Python >= 3.11 is needed (found $("$py" --version 2>&1))" >&2; exit 1; }
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "crossbar==$CROSSBAR_PIN" >&2
fi
echo "$venv/bin/crossbar"
