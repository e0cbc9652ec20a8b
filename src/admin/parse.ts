/** Validation of operator input, shared by the admin modules. Pure. */
import { ACTIONS, type Action, type MatchKind, type RequestMatch } from "../authorize/rules.js";
import { templateProblem } from "../authorize/template.js";
import { fromStarred, MAX_URI_LENGTH, RULE_URI } from "../authorize/uri.js";
import { AdminError } from "./context.js";

const REALM = /^([0-9a-z_]+\.)*[0-9a-z_]+$/;
const ROLE = /^[0-9a-z_.-]+$/;
const PUBKEY = /^[0-9a-f]{64}$/i;

export function realmName(name: string): string {
  if (!REALM.test(name)) throw new AdminError(`invalid realm name "${name}": lowercase letters, digits, "_" and dots`);
  return name;
}

export function roleName(name: string): string {
  if (name === "trusted") throw new AdminError(`role "trusted" is Crossbar's built-in allow-everything role and cannot be used`);
  if (!ROLE.test(name)) throw new AdminError(`invalid role name "${name}": lowercase letters, digits, "_", "-" and dots`);
  return name;
}

const GROUP = /^[0-9a-z_.-]{1,255}$/;

export function groupName(name: string): string {
  if (!GROUP.test(name)) throw new AdminError(`invalid group name "${name}": lowercase letters, digits, "_", "-" and dots`);
  return name;
}

/** A point in time for a rule window: ISO 8601 date (UTC midnight) or date-time. */
export function instant(text: string, what: string): Date {
  const d = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) throw new AdminError(`invalid ${what} "${text}" (use ISO 8601, e.g. 2027-01-31 or 2027-01-31T12:00:00Z)`);
  return d;
}

export function authidText(authid: string): string {
  if (authid.length < 1 || authid.length > 255) throw new AdminError("authid must be 1 to 255 characters");
  return authid;
}

export function jsonObject(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new AdminError(`${what} is not valid JSON`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new AdminError(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

/** "call,subscribe" / "all" / "none" / "" → actions. */
export function actions(text: string): Action[] {
  const t = text.trim();
  if (t === "all") return [...ACTIONS];
  if (t === "" || t === "none") return [];
  const out = new Set<Action>();
  for (const part of t.split(",").map((s) => s.trim())) {
    if (!(ACTIONS as readonly string[]).includes(part))
      throw new AdminError(`unknown action "${part}" (call, register, publish, subscribe, all, none)`);
    out.add(part as Action);
  }
  return [...out];
}

export function action(text: string): Action {
  if (!(ACTIONS as readonly string[]).includes(text)) throw new AdminError(`unknown action "${text}" (call, register, publish, subscribe)`);
  return text as Action;
}

export function matchKind(text: string): MatchKind {
  if (text !== "exact" && text !== "prefix" && text !== "wildcard")
    throw new AdminError(`unknown match "${text}" (exact, prefix, wildcard)`);
  return text;
}

/** A rule URI with its match; without an explicit match, Crossbar's starred form decides. */
export function ruleUri(uri: string, match?: string): { uri: string; match: MatchKind } {
  const r = match === undefined ? fromStarred(uri) : { uri, match: matchKind(match) };
  if (r.uri.includes("*")) throw new AdminError(`"*" in a URI is the starred form: give it without a match kind`);
  if (r.uri.length > MAX_URI_LENGTH || !RULE_URI.test(r.uri)) throw new AdminError(`invalid rule URI "${uri}"`);
  if (r.match === "exact" && r.uri === "") throw new AdminError("an exact rule needs a non-empty URI");
  templateUri(r.uri);
  return r;
}

/** A rule URI's placeholders ({authid}, {realm}, {role}, {extra.NAME}) are known and balanced. */
export function templateUri(uri: string): string {
  const problem = templateProblem(uri);
  if (problem) throw new AdminError(`invalid rule URI "${uri}": ${problem}`);
  return uri;
}

/** `check --match`: how a subscription/registration names its URI (absent: exact). */
export function requestMatch(text: string | undefined): RequestMatch {
  if (text === undefined || text === "exact" || text === "prefix" || text === "wildcard") return text ?? "exact";
  throw new AdminError(`unknown match "${text}" (exact, prefix, wildcard)`);
}

/** A request URI for `check`. */
export function requestUri(uri: string): string {
  if (uri.length === 0 || uri.length > MAX_URI_LENGTH || /[\s#]/.test(uri)) throw new AdminError(`invalid URI "${uri}"`);
  return uri;
}

export function pubkey(text: string): string {
  if (!PUBKEY.test(text)) throw new AdminError("a cryptosign public key is 64 hex characters (Ed25519)");
  return text.toLowerCase();
}

export function expiry(text: string | undefined): Date | null {
  if (text === undefined) return null;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new AdminError(`invalid date "${text}" (use ISO 8601, e.g. 2027-01-31 or 2027-01-31T12:00:00Z)`);
  return d;
}

export function cidrList(values: string[]): string[] {
  for (const v of values) {
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(v)) throw new AdminError(`invalid CIDR "${v}"`);
  }
  return values;
}
