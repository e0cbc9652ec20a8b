#!/usr/bin/env bash
# Prints the path of a python that has wampy (the WAMP client from PyPI, gevent based): a cached
# virtualenv with the pinned release and the dependency versions the tests ran with. Used by the
# wampy integration test (test/helpers/wampyClient.ts), so a fresh machine gets it on first use.
set -euo pipefail
WAMPY_PIN="${AUTHD_WAMPY_VERSION:-1.1.0}"
CACHE="${WAMP_AUTHD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wamp-authd}"
venv="$CACHE/wampy-$WAMPY_PIN"
# wampy 1.1.0 pins attrs and six itself and leaves these open: fixed here so a new gevent/eventlet
# release cannot change what the test runs.
DEPS=(gevent==26.9.0 greenlet==3.5.6 eventlet==0.41.3 simplejson==4.3.0 dnspython==2.9.2 zope.event==6.2 zope.interface==8.7)
# Importing wampy monkey-patches the process with gevent and logs to stderr: only the exit code counts.
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import wampy.peers.clients' >/dev/null 2>&1; then
  py="${PYTHON:-python3}"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' \
    || { echo "ensure-wampy: Python >= 3.8 is needed (found $("$py" --version 2>&1))" >&2; exit 1; }
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "wampy==$WAMPY_PIN" "${DEPS[@]}" >&2
fi
echo "$venv/bin/python"
