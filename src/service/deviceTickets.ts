import { newToken, TOKEN_ID, type TokenKeys } from "../auth/tokens/apiTokens.js";
import { isPrintable } from "../auth/tokens/claims.js";
import { AuthError } from "../errors/authErrors.js";
import type { Logger } from "../log/logger.js";
import type { Caller, Procedure } from "../router/link.js";
import type { WampSession } from "../router/wamp.js";
import type { Queryable, UserRow } from "../store/queries.js";
import {
  countLiveTokens,
  insertApiToken,
  listTokens,
  revokeToken,
  tokenSessionKind,
  usersBySessionIdentity,
} from "../store/tokenQueries.js";

/** Registered by wamp-authd in every app realm; callers are sessions the authorizer let through. */
export const DEVICE_PROCEDURES = {
  issue: "authd.tokens.issue",
  list: "authd.tokens.list",
  revoke: "authd.tokens.revoke",
} as const;

const NOT_AUTHORIZED = "wamp.error.not_authorized";
const INVALID_ARGUMENT = "wamp.error.invalid_argument";
const MAX_LABEL = 100;

export interface DeviceTicketsOptions {
  db: Queryable;
  log: Logger;
  /** null: no tokens.key configured; issuing is refused. */
  keys: TokenKeys | null;
  /** The service's router session in a realm (asks wamp.session.get about the caller). */
  session: (realm: string) => WampSession | null;
  ttlSeconds: number;
  maxPerUser: number;
}

function callError(uri: string, message: string): AuthError {
  return new AuthError(uri, message, message, uri === INVALID_ARGUMENT ? "bad_request" : "account");
}

/**
 * Device tickets ("remember this device", the replacement for cookie auth): a logged-in session asks
 * for a short-lived token bound to its own user, lists and revokes its own. The caller's identity is
 * what the router discloses (the rule for authd.tokens.* must disclose the caller), checked against
 * the router's own record of that session (wamp.session.get) and mapped back to exactly one stored user.
 */
export class DeviceTickets {
  constructor(private readonly o: DeviceTicketsOptions) {}

  procedures(realm: string): Procedure[] {
    return [
      { uri: DEVICE_PROCEDURES.issue, callers: "sessions", handler: (args, caller) => this.issue(realm, args, caller) },
      { uri: DEVICE_PROCEDURES.list, callers: "sessions", handler: (_args, caller) => this.list(realm, caller) },
      { uri: DEVICE_PROCEDURES.revoke, callers: "sessions", handler: (args, caller) => this.revoke(realm, args, caller) },
    ];
  }

  private async issue(realm: string, args: unknown[], caller: Caller): Promise<Record<string, unknown>> {
    const label = args[0];
    if (typeof label !== "string" || label.length === 0 || label.length > MAX_LABEL || !isPrintable(label)) {
      throw callError(INVALID_ARGUMENT, `the first argument is the device label: 1 to ${MAX_LABEL} printable characters`);
    }
    const ttl = args[1] ?? this.o.ttlSeconds;
    if (typeof ttl !== "number" || !Number.isSafeInteger(ttl) || ttl < 60 || ttl > this.o.ttlSeconds) {
      throw callError(INVALID_ARGUMENT, `the second argument (optional) is the lifetime in seconds: 60 to ${this.o.ttlSeconds}`);
    }
    const { user, session } = await this.identify(realm, caller);
    // A ticket must not renew itself: only a session that proved a credential (or an IdP's JWT) may issue.
    const kind = await tokenSessionKind(this.o.db, session);
    if (kind === "api" || kind === "device")
      throw callError(NOT_AUTHORIZED, "a session that logged in with an API token or device ticket cannot issue device tickets");
    const keys = this.o.keys;
    if (!keys) throw callError("wamp.error.runtime_error", "device tickets are not enabled (no tokens.key configured)");
    if ((await countLiveTokens(this.o.db, user.id, "device")) >= this.o.maxPerUser) {
      throw callError("authd.error.too_many_tokens", `at most ${this.o.maxPerUser} live device tickets per user: revoke one first`);
    }
    const token = newToken("device");
    const { keyId, hash } = keys.hash(token.id, token.secret);
    const expiresAt = new Date(Date.now() + ttl * 1000);
    await insertApiToken(this.o.db, {
      id: token.id,
      userId: user.id,
      kind: "device",
      name: label,
      role: null,
      keyId,
      secretHash: hash,
      expiresAt,
    });
    this.o.log.info({ realm, authid: user.authid, token: token.id, expires: expiresAt.toISOString() }, "device ticket issued");
    return { token: token.text, id: token.id, label, expires_at: expiresAt.toISOString() };
  }

  private async list(realm: string, caller: Caller): Promise<Array<Record<string, unknown>>> {
    const { user } = await this.identify(realm, caller);
    const rows = await listTokens(this.o.db, user.id, "device", true);
    return rows.map((t) => ({
      id: t.id,
      label: t.name,
      created_at: t.created_at.toISOString(),
      expires_at: t.expires_at.toISOString(),
      last_used_at: t.last_used_at?.toISOString() ?? null,
    }));
  }

  private async revoke(realm: string, args: unknown[], caller: Caller): Promise<Record<string, unknown>> {
    const id = args[0];
    if (typeof id !== "string" || !TOKEN_ID.test(id))
      throw callError(INVALID_ARGUMENT, "the first argument is the ticket's id (16 characters)");
    const { user } = await this.identify(realm, caller);
    // Someone else's ticket and no ticket at all look the same.
    if (!(await revokeToken(this.o.db, user.id, "device", id))) throw callError("authd.error.no_such_token", "no such device ticket");
    this.o.log.info({ realm, authid: user.authid, token: id }, "device ticket revoked by its user");
    return { revoked: id };
  }

  /** The calling session and its user; every doubt is a refusal. */
  private async identify(realm: string, caller: Caller): Promise<{ user: UserRow; session: number }> {
    if (caller.session === null || caller.authid === null || caller.authrole === null) {
      throw callError(NOT_AUTHORIZED, "the router did not disclose the caller: the rule allowing authd.tokens.* must disclose the caller");
    }
    const router = this.o.session(realm);
    if (!router) throw callError("wamp.error.runtime_error", "not connected to the router");
    let info: unknown;
    try {
      info = await router.call("wamp.session.get", [caller.session]);
    } catch {
      throw callError(NOT_AUTHORIZED, "the caller's session is unknown to the router");
    }
    const d = (typeof info === "object" && info !== null ? info : {}) as Record<string, unknown>;
    // The router's record must agree with what the invocation disclosed, and the session must come
    // from wamp-authd's authenticator with a real credential (not anonymous, not a static principal).
    if (d.authid !== caller.authid || d.authrole !== caller.authrole || d.authprovider !== "dynamic" || d.authmethod === "anonymous") {
      throw callError(NOT_AUTHORIZED, "the caller's session was not authenticated by wamp-authd with a credential");
    }
    const users = await usersBySessionIdentity(this.o.db, realm, caller.authid);
    if (users.length !== 1) throw callError(NOT_AUTHORIZED, "the caller does not map to exactly one user");
    const user = users[0]!;
    if (user.disabled) throw callError(NOT_AUTHORIZED, "the caller's user is disabled");
    return { user, session: caller.session };
  }
}
