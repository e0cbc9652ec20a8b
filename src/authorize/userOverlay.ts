/**
 * From a session's stored user(s) to its overlay (overlay.ts): which user a session is, and which
 * rules it brings — its own, those of every group it is in (nested groups included), and the
 * role's and groups' templates substituted with its identity and the user's stored extra.
 *
 * A session is known by its effective identity: realm and authid after the user's overrides. Several
 * stored users can map onto one identity (e.g. two users of a realm with the same authid override).
 * Only enabled users with the session's role count; if several remain and they are not
 * interchangeable (no rules or groups of their own, the same extra), the identity is ambiguous and
 * the overlay denies everything: nobody gets another user's rules. Pure.
 */
import type { GroupGraph } from "./groups.js";
import { type CompiledRules, compileRules } from "./matcher.js";
import { buildOverlay } from "./overlay.js";
import type { Rule } from "./rules.js";
import type { TemplateOptions } from "./template.js";

export interface SessionUser {
  id: string;
  /** The stored authid (before an override): its rules' owner. */
  authid: string;
  role: string;
  disabled: boolean;
  /** The user's stored extra (templates' {extra.NAME}). */
  extra: Readonly<Record<string, unknown>>;
  /** The user's own rules (source "user"). */
  rules: readonly Rule[];
  /** The groups the user is directly in. */
  groups: readonly number[];
}

export type UserResolution = { kind: "none" } | { kind: "user"; user: SessionUser } | { kind: "ambiguous"; ids: string[] };

const NONE: UserResolution = Object.freeze({ kind: "none" });

/** The stored user a session of `role` belongs to, among the users of its identity. */
export function resolveUser(candidates: readonly SessionUser[], role: string): UserResolution {
  const matching = candidates.filter((u) => !u.disabled && u.role === role);
  if (matching.length === 0) return NONE;
  const first = matching[0] as SessionUser;
  if (matching.length === 1) return { kind: "user", user: first };
  const plain = (u: SessionUser) => u.rules.length === 0 && u.groups.length === 0;
  const extra = stableJson(first.extra);
  if (matching.every((u) => plain(u) && stableJson(u.extra) === extra)) return { kind: "user", user: first };
  return { kind: "ambiguous", ids: matching.map((u) => u.id) };
}

export interface SessionOverlayInput {
  realm: string;
  role: string;
  authid: string;
  resolution: UserResolution;
  groups: GroupGraph;
  /** The role's template rules (`CompiledRules.templates` of the role's set). */
  roleTemplates: readonly Rule[];
  options: TemplateOptions;
}

/**
 * The session's overlay, or null when it has nothing of its own. Its groups' plain rules are
 * compiled once per set of groups and shared (the overlay's `shared` part); its own rules and every
 * template (the role's, its groups') are compiled into the overlay itself.
 */
export function sessionOverlay(o: SessionOverlayInput, now: number): CompiledRules | null {
  const { resolution } = o;
  if (resolution.kind === "ambiguous") return denyEverything(o.authid, now);
  const user = resolution.kind === "user" ? resolution.user : null;
  const groups = user ? o.groups.closure(user.groups) : [];
  return buildOverlay(
    {
      session: { authid: o.authid, realm: o.realm, role: o.role, extra: user?.extra ?? {} },
      rules: user ? [...user.rules, ...o.groups.templatesOf(groups)] : [],
      roleTemplates: o.roleTemplates,
      options: o.options,
      shared: o.groups.compiledRules(groups, now),
    },
    now,
  );
}

/** An overlay that denies everything (an identity several different users map onto). */
export function denyEverything(authid: string, now: number): CompiledRules {
  const all = { call: true, register: true, publish: true, subscribe: true };
  const marker: Rule = {
    id: 0,
    uri: "",
    match: "prefix",
    allow: { call: false, register: false, publish: false, subscribe: false },
    deny: all,
    disclose: { caller: false, publisher: false },
    cache: false,
    source: "user",
    owner: authid,
    validFrom: null,
    validUntil: null,
  };
  return compileRules([], now, { cacheable: false, failedDenials: [marker] });
}

/** JSON with object keys sorted: two extras compare equal whatever their key order. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
