#!/usr/bin/env python3
"""
A no-op dynamic authorizer in autobahn-python on the router's privileged unix-socket transport, with a
chosen serializer (json or msgpack). Registers bench.noop_authorize_<serializer>, answering
{allow: true, disclose: false, cache: false}. Prints "ready" once registered. Used by npm run bench to
show what the privileged transport's serializer costs the router per dynamic authorization.
Run with the Crossbar venv's python. Usage: pyAuthorizer.py <socket path> <realm> <json|msgpack>
"""
import asyncio
import sys
import warnings

warnings.simplefilter("ignore")

import txaio  # noqa: E402

txaio.use_asyncio()

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402

ALLOW = {"allow": True, "disclose": False, "cache": False}


def main():
    path, realm, serializer = sys.argv[1], sys.argv[2], sys.argv[3]
    done = asyncio.get_event_loop().create_future()

    class Authorizer(ApplicationSession):
        async def onJoin(self, details):
            await self.register(lambda *a, **k: ALLOW, f"bench.noop_authorize_{serializer}")
            print("ready", flush=True)

        def onDisconnect(self):
            if not done.done():
                done.set_result(None)

    ser = MsgPackSerializer() if serializer == "msgpack" else JsonSerializer()
    factory = WampRawSocketClientFactory(lambda: Authorizer(ComponentConfig(realm=realm)), serializer=ser)
    loop = asyncio.get_event_loop()
    loop.run_until_complete(loop.create_unix_connection(factory, path))
    loop.run_until_complete(done)


if __name__ == "__main__":
    main()
