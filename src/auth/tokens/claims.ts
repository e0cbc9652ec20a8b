/**
 * How a verified JWT's claims become a session: authid, role, realm and extra. Pure: the payload has
 * already been verified, and nothing here trusts it beyond the issuer's rules. Every failure is a
 * ClaimError whose message is the denial's (logged, never shown) reason.
 */
import { AuthdError } from "../../errors/base.js";

export class ClaimError extends AuthdError {
  readonly code = "CLAIM_INVALID";
}

export interface RoleMapEntry {
  value: string;
  role: string;
}

export interface ClaimRules {
  authidClaim: string;
  roleClaim: string | null;
  roleMap: readonly RoleMapEntry[];
  defaultRole: string | null;
  realmClaim: string | null;
  extraClaims: readonly string[];
}

const MAX_ID = 255;
const MAX_EXTRA_JSON = 4096;

/**
 * A claim by name: the top-level claim of exactly that name first (Auth0-style namespaced claims
 * such as `https://example.com/roles` contain dots), else a dotted path into nested objects
 * (Keycloak's `realm_access.roles`). Own properties only.
 */
export function claimAt(payload: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  let cur: unknown = payload;
  for (const part of name.split(".")) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Well-formed text without control characters (C0 and DEL). */
export function isPrintable(v: string): boolean {
  if (!v.isWellFormed()) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

function identifier(v: unknown, what: string): string {
  if (typeof v !== "string" || v.length === 0) throw new ClaimError(`claim ${what} is missing or not a string`);
  if (v.length > MAX_ID) throw new ClaimError(`claim ${what} is longer than ${MAX_ID} characters`);
  if (!isPrintable(v)) throw new ClaimError(`claim ${what} holds control characters`);
  return v;
}

/** The session's authid from the issuer's authid claim (default `sub`). */
export function authidFrom(payload: Record<string, unknown>, rules: Pick<ClaimRules, "authidClaim">): string {
  return identifier(claimAt(payload, rules.authidClaim), rules.authidClaim);
}

/** The realm the claim names, when the issuer takes the realm from a claim; null otherwise. */
export function realmFrom(payload: Record<string, unknown>, rules: Pick<ClaimRules, "realmClaim">): string | null {
  if (!rules.realmClaim) return null;
  return identifier(claimAt(payload, rules.realmClaim), rules.realmClaim);
}

/**
 * The role from the role claim through the mapping table: the first entry (in table order) whose value
 * the claim holds (a string, or an array of strings) wins; no match gives the default role, or a
 * denial. `null`: the issuer maps no role claim, so the stored user's role applies. `trusted` never
 * comes out (the store's triggers refuse it in the table too; the authenticator refuses reserved roles).
 */
export function roleFrom(
  payload: Record<string, unknown>,
  rules: Pick<ClaimRules, "roleClaim" | "roleMap" | "defaultRole">,
): string | null {
  if (!rules.roleClaim) return null;
  const raw = claimAt(payload, rules.roleClaim);
  const held = new Set<string>();
  if (typeof raw === "string") held.add(raw);
  else if (Array.isArray(raw)) for (const v of raw.slice(0, 1000)) if (typeof v === "string") held.add(v);
  const hit = rules.roleMap.find((e) => held.has(e.value));
  const role = hit?.role ?? rules.defaultRole;
  if (!role) throw new ClaimError(`no entry of the role map matches claim ${rules.roleClaim} and the issuer has no default role`);
  if (role === "trusted") throw new ClaimError("the role map names trusted");
  return role;
}

/** The selected claims, copied as they are into the session's extra (bounded in size). */
export function extraFrom(payload: Record<string, unknown>, rules: Pick<ClaimRules, "extraClaims">): Record<string, unknown> {
  const picked = rules.extraClaims.flatMap((name): Array<[string, unknown]> => {
    const v = claimAt(payload, name);
    return v === undefined ? [] : [[name, v]];
  });
  // fromEntries defines own properties: a claim named __proto__ stays a plain key.
  const extra = Object.fromEntries(picked);
  if (JSON.stringify(extra).length > MAX_EXTRA_JSON) throw new ClaimError(`the selected claims exceed ${MAX_EXTRA_JSON} characters`);
  return extra;
}
