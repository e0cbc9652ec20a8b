import { deny } from "../../errors/authErrors.js";
import type { Config } from "../../config/load.js";
import { findLogin } from "../../store/queries.js";
import { CraDecryptError, loadCraCipher, type CraCipher } from "../craCipher.js";
import { craAnswer, CraCredentialError, openCraCredential } from "../craCredential.js";
import { decoyCraAnswer } from "../decoys.js";
import type { AuthMethod } from "../method.js";
import { principalOf } from "../principal.js";

/** One cipher per loaded config: the key file is read once, not per login. */
const ciphers = new WeakMap<Config["cra"], CraCipher>();

function cipherFor(config: Config): CraCipher {
  let c = ciphers.get(config.cra);
  if (!c) {
    c = loadCraCipher(config.cra); // a CraKeyError here fails the login closed (unavailable)
    ciphers.set(config.cra, c);
  }
  return c;
}

/**
 * WAMP-CRA. Crossbar calls at HELLO, before it sends the CHALLENGE, and then checks the client's
 * HMAC itself with the `secret` we answer: a wrong secret is denied by Crossbar after the CHALLENGE
 * (with its own message, "WAMP-CRA client signature is invalid"). Unknown users, users without a
 * wampcra credential and disabled users get a decoy answer (auth/decoys.ts) with the salt
 * parameters `users passwd` writes, so they see the same CHALLENGE and the same failure. Without an
 * authid no user can log in: that stays a denial.
 *
 * The secret is stored AES-256-GCM encrypted (craCipher.ts) and decrypted only to answer the router.
 * It is never logged: error messages from the cipher and the credential checks never contain it.
 */
const wampcra: AuthMethod = {
  name: "wampcra",
  async authenticate(req, ctx) {
    const { realm, authid } = req;
    if (!realm) throw deny("no realm", "unknown");
    if (!authid) throw deny("no authid", "unknown");
    const login = await findLogin(ctx.pool, realm, authid, "wampcra");
    if (!login) throw deny("unknown user", "unknown");
    const cred = login.credentials[0];
    if (!cred) throw deny("no wampcra credential", "account");
    if (login.user.disabled) throw deny("user disabled", "account");
    let opened;
    try {
      opened = openCraCredential(cipherFor(ctx.config), cred.data);
    } catch (err) {
      if (err instanceof CraDecryptError || err instanceof CraCredentialError) {
        // An operator problem (key removed from the key file, corrupt row): deny, and say why in the log.
        ctx.log.error({ realm, authid, credential: cred.id, err }, "unusable wampcra credential");
        throw deny(`unusable wampcra credential: ${err.message}`, "account");
      }
      throw err;
    }
    return { ...principalOf(login.user), answer: craAnswer(ctx.config.cra.secretMode, opened) };
  },
  async decoy(req, ctx, why) {
    const { realm, authid } = req;
    if (!realm || !authid) return null;
    const role = await ctx.decoys.role(realm);
    if (!role) return null;
    const answer = decoyCraAnswer(await ctx.decoys.key(), realm, authid, ctx.config.cra.secretMode);
    return { role, authid, realm, extra: {}, answer, decoy: why };
  },
};

export default wampcra;
