import { deny } from "../../errors/authErrors.js";
import { findLogin, rehashCredential } from "../../store/queries.js";
import type { AuthMethod } from "../method.js";
import { principalOf } from "../principal.js";
import { TokenAuthenticator } from "../tokens/tokens.js";

/**
 * WAMP-Ticket. A JWT or one of our API tokens / device tickets goes to its verifier
 * (src/auth/tokens/); anything else is a password, checked against an argon2id PHC hash. Unknown
 * users and users without a ticket credential burn the same argon2 work as a wrong password.
 */
const ticket: AuthMethod = {
  name: "ticket",
  provesCredential: true,
  hashesPassword: true,
  async authenticate(req, ctx) {
    const { realm, authid } = req;
    // Longer than tokens.maxTicketLength: refused before any work, with the one denial.
    if (req.details.ticketTooLong) throw deny("ticket too long", "unknown");
    const given = req.details.ticket;
    if (given !== null && ctx.tokens) {
      const kind = TokenAuthenticator.kindOf(given);
      if (kind !== "password") return ctx.tokens.authenticate(req, given, kind);
    }
    if (!realm || !authid || given === null) {
      await ctx.passwords.burn(given ?? "", ctx.deadline);
      throw deny(!realm ? "no realm" : !authid ? "no authid" : "no ticket", "unknown");
    }
    const login = await findLogin(ctx.pool, realm, authid, "ticket");
    const cred = login?.credentials[0];
    const phc = typeof cred?.data.phc === "string" ? cred.data.phc : null;
    if (!login || !cred || !phc) {
      await ctx.passwords.burn(given, ctx.deadline);
      throw deny(login ? "no ticket credential" : "unknown user", login ? "account" : "unknown");
    }
    const ok = await ctx.passwords.verify(phc, given, ctx.deadline);
    if (!ok) throw deny("wrong ticket", "account");
    if (login.user.disabled) throw deny("user disabled", "account");
    if (ctx.passwords.needsRehash(phc)) {
      // Parameters changed since this hash was made: upgrade it now that we know the ticket,
      // off the login's path so the client is not kept waiting for a second hash.
      void ctx.passwords
        .hash(given)
        .then((fresh) => rehashCredential(ctx.pool, cred.id, { ...cred.data, phc: fresh }))
        .catch((err: unknown) => ctx.log.warn({ err, authid }, "rehash on login failed"));
    }
    return principalOf(login.user);
  },
};

export default ticket;
