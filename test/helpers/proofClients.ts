/**
 * autobahn-js WAMP-CRA and cryptosign logins that record what the router sent: the CHALLENGE's
 * extra (or null when the HELLO got WELCOME or ABORT straight away), then WELCOME or the ABORT.
 */
import { randomBytes } from "node:crypto";
import autobahn from "autobahn";
import { Aborted, connect } from "./client.js";

export interface Attempt {
  /** CHALLENGE.extra, or null: answered at HELLO. */
  challenge: Record<string, unknown> | null;
  /** null: WELCOME (the session was closed again at once). */
  abort: { reason: string; message: string } | null;
  /** ms from opening the connection to the CHALLENGE (null: none came). */
  challengeMs: number | null;
}

async function attempt(o: Parameters<typeof connect>[0], sign: (extra: Record<string, unknown>) => string): Promise<Attempt> {
  let challenge: Record<string, unknown> | null = null;
  let challengeMs: number | null = null;
  const t0 = performance.now();
  try {
    const c = await connect({
      ...o,
      onchallenge: (_s, _m, extra) => {
        challengeMs = performance.now() - t0;
        challenge = { ...extra };
        return sign(extra);
      },
    });
    c.close();
    return { challenge, abort: null, challengeMs };
  } catch (err) {
    if (err instanceof Aborted) return { challenge, abort: { reason: err.reason, message: err.abortMessage }, challengeMs };
    throw err;
  }
}

/** Signs as autobahn-js does: with the PBKDF2 key when the CHALLENGE carries salt parameters. */
export function craAttempt(url: string, realm: string, authid: string, secret: string): Promise<Attempt> {
  return attempt({ url, realm, authmethods: ["wampcra"], authid }, (extra) => {
    const key =
      typeof extra.salt === "string"
        ? autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations as number, extra.keylen as number)
        : secret;
    return autobahn.auth_cra.sign(key, extra.challenge as string);
  });
}

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function keyPair(): KeyPair {
  return autobahn.nacl.sign.keyPair.fromSeed(new Uint8Array(randomBytes(32)));
}

export const pubHex = (k: KeyPair): string => autobahn.auth_cryptosign.public_key(k);

/** Announces `announced` (default: the pair's own key) and signs the CHALLENGE with `pair`. */
export function cryptosignAttempt(
  url: string,
  realm: string,
  authid: string | undefined,
  pair: KeyPair,
  announced = pubHex(pair),
): Promise<Attempt> {
  return attempt(
    { url, realm, authmethods: ["cryptosign"], ...(authid === undefined ? {} : { authid }), authextra: { pubkey: announced } },
    (extra) => autobahn.auth_cryptosign.sign_challenge(pair, extra as { challenge: string }),
  );
}
