import { deny } from "../../errors/authErrors.js";
import { findRealmPolicy } from "../../store/queries.js";
import { ipInCidrs, peerIp } from "../cidr.js";
import type { AuthMethod } from "../method.js";

/**
 * WAMP-Anonymous, decided per realm by the store (authd.realms.anonymous_*). Crossbar calls at
 * HELLO with (requested realm, router-generated authid, details); there is no challenge.
 *
 * Denied unless the realm allows anonymous logins and names a role (the authenticator then checks
 * the role exists there and is not `trusted`). With anonymous_cidrs set, the client's address must
 * lie in one of them; a peer without an IP address (unix socket, unknown) is then denied too.
 */
const anonymous: AuthMethod = {
  name: "anonymous",
  async authenticate(req, ctx) {
    const realm = req.realm;
    if (!realm) throw deny("no realm", "policy");
    const policy = await findRealmPolicy(ctx.pool, realm);
    if (!policy) throw deny("unknown realm", "policy");
    if (!policy.anonymous_allowed) throw deny("anonymous logins not allowed in this realm", "policy");
    if (!policy.anonymous_role) throw deny("realm has no anonymous role", "policy");
    if (policy.anonymous_cidrs.length > 0) {
      const ip = peerIp(req.details.transport.peer);
      if (!ip) throw deny("peer has no IP address, anonymous logins are restricted to anonymous_cidrs", "policy");
      if (!ipInCidrs(ip, policy.anonymous_cidrs)) throw deny("peer address not in anonymous_cidrs", "policy");
    }
    // Keep the router's generated serial unless the realm pins an authid (shared by all its guests).
    const authid = policy.anonymous_authid ?? req.authid;
    if (!authid) throw deny("no authid", "policy");
    return { role: policy.anonymous_role, authid, realm, extra: policy.anonymous_extra };
  },
};

export default anonymous;
