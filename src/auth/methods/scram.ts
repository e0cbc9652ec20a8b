import { deny } from "../../errors/authErrors.js";
import { findLogin } from "../../store/queries.js";
import { decoyScramAnswer } from "../decoys.js";
import type { AuthMethod } from "../method.js";
import { principalOf } from "../principal.js";
import { parseScramCredential } from "../scramCredential.js";

/**
 * WAMP-SCRAM (kdf argon2id-13). Crossbar calls the authenticator at HELLO, before any proof exists:
 * wamp-authd answers the user's stored SCRAM parameters and keys (never the password, which is not
 * stored), the router sends the CHALLENGE and verifies the client's proof itself (docs/crossbar-protocol.md, "scram").
 *
 * Consequences:
 * - A wrong password is rejected by the router after the CHALLENGE (ABORT wamp.error.not_authorized,
 *   message "SCRAM authentication failed"); wamp-authd learns of it only because the session never
 *   joins (auth/proofTracker.ts).
 * - Unknown, disabled and credential-less users (and the other denials below) get a decoy answer
 *   (auth/decoys.ts): a CHALLENGE shaped like a real user's, then the router's own failure. An ABORT
 *   at HELLO instead would tell who exists. No argon2 work happens at auth time for any user.
 * - The answer must carry all six keys Crossbar reads, or it aborts with an opaque "Internal server error".
 * - authid overrides are refused: the router signs the proof over the authid the client sent (`n=` in the
 *   AuthMessage uses the principal's authid), so answering another authid makes every proof fail and
 *   the user could never log in. Silently ignoring the override would instead give the session an
 *   identity the administrator did not configure; failing closed with a logged reason is clearer.
 *   Realm overrides are fine: the realm is not part of the proof.
 */
const scram: AuthMethod = {
  name: "scram",
  async authenticate(req, ctx) {
    const { realm, authid } = req;
    // Crossbar refuses a SCRAM HELLO without authid before calling us; checked anyway.
    if (!realm || !authid) throw deny(!realm ? "no realm" : "no authid", "unknown");
    const login = await findLogin(ctx.pool, realm, authid, "scram");
    const cred = login?.credentials[0];
    if (!login || !cred) throw deny(login ? "no scram credential" : "unknown user", login ? "account" : "unknown");
    if (login.user.disabled) throw deny("user disabled", "account");
    const c = parseScramCredential(cred.data);
    if (!c) {
      ctx.log.warn({ realm, authid, credential: cred.id }, "scram credential is malformed; denying");
      throw deny("malformed scram credential", "account");
    }
    const principal = principalOf(login.user);
    if (principal.authid !== authid) throw deny("authid override cannot be used with scram", "account");
    return {
      ...principal,
      answer: {
        kdf: c.kdf,
        iterations: c.iterations,
        memory: c.memory,
        salt: c.salt,
        "stored-key": c.stored_key,
        "server-key": c.server_key,
      },
    };
  },
  async decoy(req, ctx, why) {
    const { realm, authid } = req;
    if (!realm || !authid) return null;
    const role = await ctx.decoys.role(realm);
    if (!role) return null;
    const answer = decoyScramAnswer(await ctx.decoys.key(), realm, authid, ctx.config.scram);
    return { role, authid, realm, extra: {}, answer, decoy: why };
  },
};

export default scram;
