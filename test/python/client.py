#!/usr/bin/env python3
"""
One-shot autobahn-python WAMP client for wamp-authd's integration tests.

Connects, authenticates with one method, and prints exactly one JSON line on stdout per login:
  {"welcome": {"authid", "authrole", "authmethod", "authprovider", "authextra", "realm"}, "challenge": ...}
  {"abort": <reason URI or null>, "message": <text or null>, "challenge": ...}
where "challenge" is what the router sent in CHALLENGE ({"method", "extra"}) or null when it sent
none (a WELCOME or ABORT straight after HELLO). Exits 0 either way (exit 2 only for bad command-line
arguments). The test side asserts on the JSON, so a denial is data, not a crash. Run it with the
Crossbar venv's python (it has autobahn + argon2-cffi). --password may be given several times (scram):
one login per password, one after the other on fresh connections, one JSON line each.

Methods: ticket (--ticket), scram (--password; argon2id-13 via autobahn.wamp.auth.AuthScram, which also
verifies the router's scram_server_signature on WELCOME), tls (client certificate via --cert/--key),
cryptosign (--seed, hex Ed25519 seed; --channel-binding tls-unique binds the signature to the TLS
channel, --channel-binding tls-unique-zero announces it but signs a zero channel id), anonymous. --ca/--cert/--key configure TLS for wss:// URLs.
--header NAME=VALUE adds HTTP headers to the WebSocket handshake (e.g. a spoofed X-Forwarded-For).
"""
import argparse
import asyncio
import json
import ssl
import sys
import warnings

warnings.simplefilter("ignore")

import txaio  # noqa: E402

txaio.use_asyncio()

from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.auth import AuthScram  # noqa: E402
from autobahn.wamp.cryptosign import CryptosignKey  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402
from autobahn.websocket.util import parse_url  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--realm", required=True)
    p.add_argument("--authmethod", required=True, choices=["ticket", "scram", "tls", "anonymous", "cryptosign"])
    p.add_argument("--authid", default=None)
    p.add_argument("--password", action="append", default=None, help="scram password (repeat: one login per password)")
    p.add_argument("--ticket", default=None)
    p.add_argument("--seed", default=None, help="cryptosign private key seed (64 hex chars)")
    p.add_argument("--channel-binding", default=None, choices=["tls-unique", "tls-unique-zero"])
    p.add_argument("--ca", default=None, help="CA file to trust for wss://")
    p.add_argument("--cert", default=None, help="client certificate (PEM) for wss://")
    p.add_argument("--key", default=None, help="client private key (PEM) for wss://")
    p.add_argument("--timeout", type=float, default=15.0)
    p.add_argument("--header", action="append", default=[], help="extra HTTP header for the WebSocket handshake, NAME=VALUE (repeatable)")
    a = p.parse_args()
    for h in a.header:
        if "=" not in h:
            p.error("--header needs NAME=VALUE")
    if a.authmethod == "scram" and (a.password is None or a.authid is None):
        p.error("scram needs --authid and --password")
    if a.authmethod == "ticket" and a.ticket is None:
        p.error("ticket needs --ticket")
    if a.authmethod == "cryptosign" and a.seed is None:
        p.error("cryptosign needs --seed")
    return a


class OneShot(ApplicationSession):
    """Joins once; records WELCOME or ABORT into `done`, then leaves."""

    def __init__(self, config, args, done, password):
        super().__init__(config)
        self.args = args
        self.done = done
        self.challenge = None
        self.scram = AuthScram(authid=args.authid, password=password) if args.authmethod == "scram" else None
        self.key = CryptosignKey.from_bytes(bytes.fromhex(args.seed)) if args.authmethod == "cryptosign" else None

    def _finish(self, value):
        if not self.done.done():
            value["challenge"] = self.challenge
            self.done.set_result(value)

    def onConnect(self):
        authextra = self.scram.authextra if self.scram else None
        if self.key is not None:
            authextra = {"pubkey": self.key.public_key()}
            if self.args.channel_binding:
                authextra["channel_binding"] = "tls-unique"
        self.join(self.config.realm, authmethods=[self.args.authmethod], authid=self.args.authid, authextra=authextra)

    def onChallenge(self, challenge):
        self.challenge = {"method": challenge.method, "extra": dict(challenge.extra or {})}
        if challenge.method == "ticket" and self.args.ticket is not None:
            return self.args.ticket
        if challenge.method == "scram" and self.scram is not None:
            return self.scram.on_challenge(self, challenge)
        if challenge.method == "cryptosign" and self.key is not None:
            channel_id = None
            if self.args.channel_binding == "tls-unique":
                channel_id = self.transport.transport_details.channel_id.get("tls-unique")
            elif self.args.channel_binding == "tls-unique-zero":
                channel_id = b"\x00" * 32
            return self.key.sign_challenge(challenge, channel_id=channel_id, channel_id_type="tls-unique" if channel_id else None)
        raise RuntimeError(f"unexpected challenge {challenge.method}")

    def onWelcome(self, msg):
        # SCRAM is mutual: a wrong server signature means the router does not know our key.
        if self.scram is not None:
            err = self.scram.on_welcome(self, msg.authextra or {})
            if err:
                self._finish({"abort": "client.scram_server_signature_invalid", "message": err})
                return err
        return None

    def onJoin(self, details):
        self._finish(
            {
                "welcome": {
                    "authid": details.authid,
                    "authrole": details.authrole,
                    "authmethod": details.authmethod,
                    "authprovider": details.authprovider,
                    "authextra": details.authextra,
                    "realm": details.realm,
                }
            }
        )
        self.leave()

    def onLeave(self, details):
        self._finish({"abort": details.reason, "message": details.message})
        self.disconnect()

    def onDisconnect(self):
        self._finish({"abort": None, "message": "transport closed before WELCOME or ABORT"})


def ssl_context(args):
    ctx = ssl.create_default_context(cafile=args.ca) if args.ca else ssl.create_default_context()
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    return ctx


async def run(args, password):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    is_secure, host, port, _resource, _path, _params = parse_url(args.url)
    # autobahn's client sends one line per name: a repeated name is joined with ", " (what the
    # server side does with repeated lines anyway).
    headers = {}
    for h in args.header:
        name, value = h.split("=", 1)
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    factory = WampWebSocketClientFactory(
        lambda: OneShot(ComponentConfig(args.realm), args, done, password), url=args.url, headers=headers
    )
    try:
        transport, _proto = await asyncio.wait_for(
            loop.create_connection(factory, host, port, ssl=ssl_context(args) if is_secure else None), args.timeout
        )
    except Exception as e:  # refused, TLS handshake failure, timeout
        return {"abort": None, "message": f"connect failed: {type(e).__name__}: {e}", "challenge": None}
    try:
        return await asyncio.wait_for(done, args.timeout)
    except asyncio.TimeoutError:
        return {"abort": None, "message": f"no WELCOME or ABORT within {args.timeout} s", "challenge": None}
    finally:
        await asyncio.sleep(0.05)  # let GOODBYE go out
        transport.close()


def main():
    args = parse_args()
    for password in args.password or [None]:
        try:
            result = asyncio.run(run(args, password))
        except Exception as e:
            result = {"abort": None, "message": f"client error: {type(e).__name__}: {e}", "challenge": None}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
