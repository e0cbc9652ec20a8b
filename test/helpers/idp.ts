/**
 * A stand-in identity provider for the tests: signing keys made in the test, a JWKS served over HTTP
 * on loopback (keys can be rotated, the endpoint made to fail, requests are counted), and JWT signing.
 */
import { createHmac, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

/** The HMAC key (tokens.key) the token tests give the service and the CLI. */
export const TOKENS_KEY = `t1:${"ab".repeat(32)}`;

export interface SigningKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

export async function signingKey(alg: "RS256" | "ES256" = "RS256", kid = randomUUID()): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

export interface Idp {
  url: string;
  issuer: string;
  /** JWKS requests served so far. */
  requests: number;
  /** The keys the JWKS lists (replace to rotate). */
  keys: SigningKey[];
  /** Answer 500 instead of the JWKS. */
  failing: boolean;
  sign(key: SigningKey, claims: JWTPayload, o?: { expiresIn?: number | string; kid?: string; notBefore?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startIdp(issuer = "https://idp.test/realms/corp"): Promise<Idp> {
  const idp: Idp = {
    url: "",
    issuer,
    requests: 0,
    keys: [],
    failing: false,
    async sign(key, claims, o = {}) {
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({ iss: issuer, aud: "wamp", iat: now, jti: randomUUID(), ...claims })
        .setProtectedHeader({ alg: key.alg, kid: o.kid ?? key.kid, typ: "JWT" })
        .setExpirationTime(o.expiresIn === undefined ? now + 300 : typeof o.expiresIn === "number" ? now + o.expiresIn : o.expiresIn);
      if (o.notBefore !== undefined) jwt.setNotBefore(o.notBefore);
      return jwt.sign(key.privateKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server: Server = createServer((req, res) => {
    if (req.url !== "/jwks") {
      res.writeHead(404).end();
      return;
    }
    idp.requests++;
    if (idp.failing) {
      res.writeHead(500).end("down");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: idp.keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  idp.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  return idp;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** An unsigned token (`alg: none`). */
export function unsecuredJwt(claims: JWTPayload): string {
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}

/** HS256 "signed" with a secret of the attacker's choice (e.g. the issuer's public key PEM). */
export function hs256Jwt(claims: JWTPayload, secret: string | Buffer, kid?: string): string {
  const head = `${b64({ alg: "HS256", typ: "JWT", ...(kid ? { kid } : {}) })}.${b64(claims)}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

/** The token with its payload replaced, signature kept. */
export function tamper(jwt: string, change: (claims: JWTPayload) => JWTPayload): string {
  const [h, p, s] = jwt.split(".") as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as JWTPayload;
  return `${h}.${b64(change(claims))}.${s}`;
}
