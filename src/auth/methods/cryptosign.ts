import { deny } from "../../errors/authErrors.js";
import { findLogin, findLoginsByLookup, type CredentialRow, type LoginRecord } from "../../store/queries.js";
import { decoyAuthid, decoyPublicKey } from "../decoys.js";
import type { AuthMethod } from "../method.js";
import { principalOf } from "../principal.js";

/** An Ed25519 public key as WAMP-cryptosign sends it: 32 bytes, hex. */
const PUBKEY = /^[0-9a-fA-F]{64}$/;

function isLive(c: CredentialRow, now: number): boolean {
  // json_build_object hands timestamps over as strings; Date covers both forms.
  return !c.revoked && (c.expires_at === null || new Date(c.expires_at).getTime() > now);
}

/**
 * WAMP-cryptosign. A user may hold several Ed25519 keys (credentials with lookup = lowercase hex
 * public key, each with a label, optional expiry, revocable). Crossbar calls at HELLO with the
 * client's authextra; we answer the key the client announced in authextra.pubkey when it is a live
 * key of that user, and Crossbar then verifies the signature over its challenge with that key.
 *
 * Without an authid the key alone identifies the user (within the realm); a key shared by several
 * users of the realm is then ambiguous and denied.
 *
 * Denials of a well-formed request (unknown user or key, a key that is not a live key of that user,
 * disabled user) are answered with a decoy key instead (auth/decoys.ts): the client gets a
 * CHALLENGE and then the router's own "invalid signature", exactly as with a wrong private key.
 * A missing or malformed pubkey is refused by everyone alike: that stays a denial.
 */
const cryptosign: AuthMethod = {
  name: "cryptosign",
  async authenticate(req, ctx) {
    const { realm, authid } = req;
    if (!realm) throw deny("no realm", "unknown");
    const announced = req.details.authextra.pubkey;
    if (announced === undefined || announced === null) throw deny("no authextra.pubkey", "unknown");
    if (typeof announced !== "string" || !PUBKEY.test(announced)) throw deny("malformed authextra.pubkey", "unknown");
    const pubkey = announced.toLowerCase();

    let login: LoginRecord;
    if (authid) {
      // findLogin returns only live (unrevoked, unexpired) credentials.
      const found = await findLogin(ctx.pool, realm, authid, "cryptosign");
      if (!found) throw deny("unknown user", "unknown");
      if (!found.credentials.some((c) => c.lookup === pubkey)) {
        throw deny(found.credentials.length === 0 ? "no live cryptosign key" : "key is not a live key of this user", "account");
      }
      login = found;
    } else {
      const now = Date.now();
      const holders = await findLoginsByLookup(ctx.pool, realm, "cryptosign", pubkey);
      const live = holders.filter((l) => l.credentials.every((c) => isLive(c, now)));
      if (live.length === 0)
        throw deny(holders.length === 0 ? "unknown key" : "key revoked or expired", holders.length === 0 ? "unknown" : "account");
      if (live.length > 1) throw deny("key belongs to several users, an authid is needed", "account");
      login = live[0]!;
    }
    if (login.user.disabled) throw deny("user disabled", "account");
    return { ...principalOf(login.user), answer: { pubkey } };
  },
  async decoy(req, ctx, why) {
    const { realm, authid } = req;
    const announced = req.details.authextra.pubkey;
    if (!realm || typeof announced !== "string" || !PUBKEY.test(announced)) return null;
    const role = await ctx.decoys.role(realm);
    if (!role) return null;
    const key = await ctx.decoys.key();
    const pubkey = announced.toLowerCase();
    // Never the announced key: the client holds its private key.
    const answer = { pubkey: decoyPublicKey(key, realm) };
    return { role, authid: authid ?? decoyAuthid(key, realm, pubkey), realm, extra: {}, answer, decoy: why };
  },
};

export default cryptosign;
