import type { UserRow } from "../store/queries.js";
import type { Principal } from "./method.js";

/** The principal a stored user maps to, with its authid/realm overrides applied. */
export function principalOf(user: UserRow): Principal {
  return {
    role: user.role,
    authid: user.authid_override ?? user.authid,
    realm: user.realm_override ?? user.realm,
    extra: user.extra,
    userId: user.id,
  };
}
