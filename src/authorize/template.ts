/**
 * Template rules: a rule URI holding placeholders, substituted per session.
 *
 * Placeholders: `{authid}`, `{realm}`, `{role}` (the session's) and `{extra.NAME}` (NAME from the
 * user's *stored* extra, never the client's authextra). Anything else in braces, or a stray brace,
 * makes the rule invalid (`templateProblem` tells the CLI why).
 *
 * A substituted value must be one valid URI component: a non-empty string without `.`, whitespace,
 * `#`, `*`, braces or control/format characters, at most 255 characters, and — with strict URIs —
 * only `[0-9a-z_]`. Otherwise the rule never matches for that session: nobody widens a rule through
 * their authid (`a.b`, `""`, `*`, `a#`, ...). A template rule that also *denies* something cannot be
 * dropped that way without lifting the denial, so the overlay then denies everything (overlay.ts).
 *
 * A substituted rule reaches the `wamp.` meta namespace only when the template itself starts with
 * `wamp.`: `{authid}.` for a user named `wamp` keeps its denials but loses its allows.
 *
 * A templated *prefix* rule should end with `.` after the last placeholder (`com.app.{authid}.`):
 * prefixes are plain string prefixes, so `com.app.{authid}` for `bob` also covers `com.app.bobby`
 * (`prefixTemplateWarning` detects it so the CLI can warn).
 */
import { type Rule, type MatchKind, NO_ACTIONS, deniesAny } from "./rules.js";
import { inMeta } from "./uriSets.js";

export interface TemplateSession {
  authid: string;
  realm: string;
  role: string;
  /** The user's stored extra (from the store, not the client). */
  extra: Readonly<Record<string, unknown>>;
}

export interface TemplateOptions {
  /** The router checks URIs strictly: values must be `[0-9a-z_]+`. */
  strictUris: boolean;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const EXTRA_NAME = /^extra\.([A-Za-z0-9_-]{1,64})$/;
const LOOSE_COMPONENT = /^[^\s.#*{}\p{Cc}\p{Cf}\p{Cs}]+$/u;
const STRICT_COMPONENT = /^[0-9a-z_]+$/;
const MAX_VALUE = 255;

/** Whether a rule URI is a template (holds a brace; a malformed one is still treated as a template, never as a literal). */
export function isTemplate(uri: string): boolean {
  return uri.includes("{") || uri.includes("}");
}

/** Why a template URI is invalid, or null when it is a valid template (or no template at all). */
export function templateProblem(uri: string): string | null {
  for (const m of uri.matchAll(PLACEHOLDER)) {
    const name = m[1] as string;
    if (name !== "authid" && name !== "realm" && name !== "role" && !EXTRA_NAME.test(name))
      return `unknown placeholder "{${name}}" (use {authid}, {realm}, {role} or {extra.NAME})`;
  }
  if (isTemplate(uri.replace(PLACEHOLDER, ""))) return `unbalanced "{" or "}" in "${uri}"`;
  return null;
}

/**
 * A warning for a templated prefix rule that does not end with `.` after its last placeholder
 * (`com.app.{authid}` also covers `com.app.bobby` for `bob`), or null.
 */
export function prefixTemplateWarning(uri: string, match: MatchKind): string | null {
  if (match !== "prefix" || !isTemplate(uri)) return null;
  const tail = uri.slice(uri.lastIndexOf("}") + 1);
  if (tail.includes(".")) return null;
  return `prefix template "${uri}" does not end with "." after its last placeholder: for authid "bob" it also covers URIs of "bobby" (use "${uri}." or an exact or wildcard rule)`;
}

/** A placeholder value, if it is a single valid URI component; otherwise null. */
export function componentValue(value: unknown, opts: TemplateOptions): string | null {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_VALUE) return null;
  if (!LOOSE_COMPONENT.test(value)) return null;
  if (opts.strictUris && !STRICT_COMPONENT.test(value)) return null;
  return value;
}

function placeholderValue(name: string, s: TemplateSession): unknown {
  if (name === "authid") return s.authid;
  if (name === "realm") return s.realm;
  if (name === "role") return s.role;
  const m = EXTRA_NAME.exec(name);
  if (!m) return undefined;
  const key = m[1] as string;
  return Object.hasOwn(s.extra, key) ? s.extra[key] : undefined;
}

export type Substitution = { ok: true; rule: Rule | null } | { ok: false; problem: string };

/**
 * The session's instance of a template rule: `{ok: true, rule}` (rule null when it cannot apply to
 * this session, e.g. an allow-only rule that would reach `wamp.`), or `{ok: false}` when a value is
 * not a valid component or the template is invalid — the rule never matches; callers must not
 * simply drop a rule that denies (see overlay.ts).
 */
export function substitute(rule: Rule, session: TemplateSession, opts: TemplateOptions): Substitution {
  const problem = templateProblem(rule.uri);
  if (problem) return { ok: false, problem };
  let bad: string | null = null;
  const uri = rule.uri.replace(PLACEHOLDER, (_m, name: string) => {
    const v = componentValue(placeholderValue(name, session), opts);
    if (v === null) bad ??= `{${name}} is not a single valid URI component for this session`;
    return v ?? "";
  });
  if (bad !== null) return { ok: false, problem: bad };
  let out: Rule = { ...rule, uri, template: rule.uri };
  if (reachesMeta(uri, rule.match) && !rule.uri.startsWith("wamp.")) {
    // Only a template naming wamp. itself may grant in the meta namespace; its denials stay.
    if (!deniesAny(rule)) return { ok: true, rule: null };
    out = { ...out, allow: { ...NO_ACTIONS } };
  }
  return { ok: true, rule: out };
}

function reachesMeta(uri: string, match: MatchKind): boolean {
  return match === "wildcard" ? uri.split(".")[0] === "wamp" : inMeta(uri);
}
