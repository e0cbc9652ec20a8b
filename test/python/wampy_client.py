#!/usr/bin/env python3
"""
One-shot wampy client (PyPI `wampy`) for wamp-authd's integration tests.

Logs in once the way wampy's docs say: `authmethods` and `authid` in the `roles` dict given to
Client, the secret in the environment as WAMPYSECRET (wampy signs a WAMP-CRA challenge with it as
given, and sends it as the ticket for `ticket`). Prints exactly one JSON line on stdout:
  {"welcome": {"authid", "authrole", "authmethod", "authprovider", "authextra", "realm"}}
  {"abort": <reason URI or null>, "message": <text or null>}
and exits 0 either way (exit 1 when no answer came in time). wampy logs to stderr.
Run it with the python printed by scripts/ensure-wampy.sh.
"""
import argparse
import json
import sys

# Importing wampy monkey-patches the process with gevent (its default backend) and configures logging.
from wampy.errors import WampyError, WampyTimeOutError  # noqa: E402
from wampy.message_handler import MessageHandler  # noqa: E402
from wampy.peers.clients import Client  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--realm", required=True)
    p.add_argument("--authmethod", required=True, choices=["wampcra", "ticket", "anonymous"])
    p.add_argument("--authid")
    p.add_argument("--timeout", type=float, default=10)
    return p.parse_args()


class Recorder(MessageHandler):
    """wampy keeps neither the WELCOME details nor the ABORT reason: keep them for the JSON line."""

    welcome = None
    abort = None

    def handle_welcome(self, message_obj):
        Recorder.welcome = message_obj.details
        super().handle_welcome(message_obj)

    def handle_abort(self, message_obj):
        Recorder.abort = message_obj
        super().handle_abort(message_obj)


def main():
    a = parse_args()
    roles = {
        "roles": {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}},
        "authmethods": [a.authmethod],
    }
    if a.authid is not None:
        roles["authid"] = a.authid
    client = Client(url=a.url, realm=a.realm, roles=roles, message_handler_cls=Recorder, call_timeout=a.timeout)
    try:
        client.start()
    except WampyTimeOutError as e:
        print(json.dumps({"error": f"timeout: {e}"}))
        return 1
    except WampyError:
        abort = Recorder.abort
        if abort is None:
            raise
        details = abort.details if isinstance(abort.details, dict) else {}
        print(json.dumps({"abort": abort.uri, "message": details.get("message")}))
        return 0
    w = Recorder.welcome or {}
    print(json.dumps({"welcome": {k: w.get(k) for k in ["authid", "authrole", "authmethod", "authprovider", "authextra", "realm"]}}))
    client.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
