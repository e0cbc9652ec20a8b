#!/usr/bin/env python3
"""
A long-lived autobahn-python subscriber for wamp-authd's integration tests (what a Python client
sees when the router revokes its subscription).

Logs in with a ticket, subscribes to --topic, then reports on stdout, one JSON line each:
  {"subscribed": true}
  {"event": <first positional argument>}
  {"left": <reason URI>, "message": <text>}     the session ended (GOODBYE/ABORT, or a protocol violation)
  {"disconnected": true}                        the transport closed
and exits after "disconnected" or --timeout seconds. Run it with the Crossbar venv's python.
"""
import argparse
import asyncio
import json
import sys
import warnings

warnings.simplefilter("ignore")

import txaio  # noqa: E402

txaio.use_asyncio()

from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402
from autobahn.websocket.util import parse_url  # noqa: E402


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Subscriber(ApplicationSession):
    def __init__(self, config, args, done):
        super().__init__(config)
        self.args = args
        self.done = done

    def onConnect(self):
        self.join(self.config.realm, authmethods=["ticket"], authid=self.args.authid)

    def onChallenge(self, challenge):
        return self.args.ticket

    async def onJoin(self, details):
        await self.subscribe(lambda *a, **k: say({"event": a[0] if a else None}), self.args.topic)
        say({"subscribed": True})

    def onLeave(self, details):
        say({"left": details.reason, "message": details.message})
        self.disconnect()

    def onDisconnect(self):
        say({"disconnected": True})
        if not self.done.done():
            self.done.set_result(None)


async def run(args):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    _secure, host, port, _r, _p, _q = parse_url(args.url)
    factory = WampWebSocketClientFactory(lambda: Subscriber(ComponentConfig(args.realm), args, done), url=args.url)
    transport, _proto = await loop.create_connection(factory, host, port)
    try:
        await asyncio.wait_for(done, args.timeout)
    except asyncio.TimeoutError:
        pass
    finally:
        transport.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--realm", required=True)
    p.add_argument("--authid", required=True)
    p.add_argument("--ticket", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--timeout", type=float, default=30.0)
    args = p.parse_args()
    try:
        asyncio.run(run(args))
    except Exception as e:
        say({"error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
