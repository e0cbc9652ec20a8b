/**
 * Answers Crossbar's `authorize(session, uri, action, options)` for one realm.
 *
 * - Arguments are read defensively and never trusted: `session.authrole` and `session.authid`
 *   (own string properties, 1–255 characters), `uri` (a string of 1–512 characters without
 *   whitespace, `#` or control characters; empty components only in patterns), `action`
 *   (call/register/publish/subscribe) and `options.match` (absent, "exact", "prefix" or
 *   "wildcard"; `options` itself absent, null or a plain object). Anything else is a denial; the
 *   rest of `session` and `options` is ignored. It never throws.
 * - The role `trusted` is always denied; an unknown role is denied.
 * - The session's own rules come from an injected provider, `sessionRules(realm, role, authid)`:
 *   a CompiledRules overlay (overlay.ts), null when the session has nothing of its own, or a
 *   Promise of either (bounded by `deadlineMs`, then denied). The default provider returns null.
 *   When the provider answers synchronously the whole decision is synchronous.
 * - Exact requests use the allocation-free path (`Decider.answer` / `answerWith`); pattern
 *   requests and debug logging go through `Decider.decide`, which names the deciding rules.
 */
import { withDeadline } from "../lib/deadline.js";
import type { Logger } from "../log/logger.js";
import { Decider } from "./decide.js";
import { CompiledRules, NO_MATCH, answerOf } from "./matcher.js";
import type { PermissionIndex } from "./permissionIndex.js";
import type { ReservedUris } from "./reserved.js";
import { type Action, type Decision, type Reason, type RequestMatch, type Verdict, isAction, isRequestMatch } from "./rules.js";
import { MAX_URI_LENGTH } from "./uri.js";

export interface AuthorizeOutcome {
  realm: string;
  role: string | null;
  action: string | null;
  allow: boolean;
  ms: number;
}

export type SessionRulesProvider = (realm: string, role: string, authid: string) => CompiledRules | null | Promise<CompiledRules | null>;

/** The provider until user/group rules exist: no session has rules of its own. */
export const noSessionRules: SessionRulesProvider = () => null;

export interface AuthorizerOptions {
  index: () => PermissionIndex;
  reserved: ReservedUris;
  log: Logger;
  onOutcome?: (o: AuthorizeOutcome) => void;
  sessionRules?: SessionRulesProvider;
  /** How long an asynchronous sessionRules answer may take before the request is denied. */
  deadlineMs?: number;
  /** The clock (epoch ms) for rule windows. */
  now?: () => number;
}

interface Parsed {
  role: string;
  authid: string;
  uri: string;
  action: Action;
  match: RequestMatch;
}

const MAX_NAME = 255;

export class Authorizer {
  private readonly decider: Decider;
  private readonly index: () => PermissionIndex;
  private readonly log: Logger;
  private readonly onOutcome: ((o: AuthorizeOutcome) => void) | undefined;
  private readonly sessionRules: SessionRulesProvider;
  private readonly deadlineMs: number;
  private readonly now: () => number;

  constructor(o: AuthorizerOptions) {
    this.decider = new Decider(o.reserved);
    this.index = o.index;
    this.log = o.log;
    this.onOutcome = o.onOutcome;
    this.sessionRules = o.sessionRules ?? noSessionRules;
    this.deadlineMs = o.deadlineMs ?? 2000;
    this.now = o.now ?? Date.now;
  }

  /** The router's answer: synchronous unless the session-rules provider answers with a Promise. Never throws or rejects. */
  authorize(realm: string, args: unknown): Decision | Promise<Decision> {
    const started = performance.now();
    let role: string | null = null;
    let action: string | null = null;
    try {
      if (!Array.isArray(args) || args.length < 3) return this.finish(realm, role, action, NO_MATCH, started);
      const session: unknown = args[0];
      role = readName(session, "authrole");
      action = isAction(args[2]) ? args[2] : null;
      const p = parse(session, role, args[1], args[2], args[3]);
      if (p === null) return this.finish(realm, role, action, NO_MATCH, started, "invalid-request");
      if (p.role === "trusted") return this.finish(realm, role, action, NO_MATCH, started, "trusted");
      const index = this.index();
      const base = index.rules(realm, p.role);
      if (base === null) return this.finish(realm, role, action, NO_MATCH, started, "unknown-role");
      const overlay = this.sessionRules(realm, p.role, p.authid);
      if (overlay !== null && !(overlay instanceof CompiledRules)) {
        if (isThenable(overlay)) return this.later(realm, p, base, overlay, started);
        throw new Error("sessionRules returned neither CompiledRules nor null");
      }
      return this.finish(realm, role, action, this.decideNow(realm, p, base, overlay), started);
    } catch (err) {
      this.log.error({ realm, err: err instanceof Error ? err.message : String(err) }, "authorize failed; denied");
      return this.finish(realm, role, action, NO_MATCH, started);
    }
  }

  private async later(
    realm: string,
    p: Parsed,
    base: CompiledRules,
    pending: PromiseLike<CompiledRules | null>,
    started: number,
  ): Promise<Decision> {
    let d: Decision = NO_MATCH;
    try {
      const overlay = await withDeadline(Promise.resolve(pending), this.deadlineMs, "session rules");
      if (overlay !== null && !(overlay instanceof CompiledRules))
        throw new Error("sessionRules resolved to neither CompiledRules nor null");
      d = this.decideNow(realm, p, base, overlay);
    } catch (err) {
      this.log.warn({ realm, role: p.role, err: err instanceof Error ? err.message : String(err) }, "session rules unavailable; denied");
    }
    return this.finish(realm, p.role, p.action, d, started);
  }

  private decideNow(realm: string, p: Parsed, base: CompiledRules, overlay: CompiledRules | null): Decision {
    // The clock matters only to sets with a window ahead (they recompile once past it).
    const now = base.nextChange === null && (overlay === null || overlay.nextChange === null) ? undefined : this.now();
    let d: Decision;
    if (p.match === "exact") {
      d = overlay === null ? this.decider.answer(base, p.uri, p.action, now) : this.decider.answerWith(base, overlay, p.uri, p.action, now);
      if (!this.log.isLevelEnabled("debug")) return d;
    }
    const v = this.decider.decide(base, overlay, { uri: p.uri, action: p.action, match: p.match }, now);
    if (this.log.isLevelEnabled("debug")) this.logVerdict(realm, p, v, overlay !== null);
    return answerOf(v.allow, v.disclose, v.cache);
  }

  private logVerdict(realm: string, p: Parsed, v: Verdict, overlay: boolean): void {
    this.log.debug(
      {
        realm,
        role: p.role,
        authid: p.authid,
        uri: p.uri,
        action: p.action,
        match: p.match,
        allow: v.allow,
        cache: v.cache,
        reason: v.reason,
        overlay,
        rules: v.rules.map((r) => ({ id: r.id, source: r.source, owner: r.owner, match: r.match, uri: r.uri })),
      },
      "authorize",
    );
  }

  private finish(realm: string, role: string | null, action: string | null, d: Decision, started: number, reason?: Reason): Decision {
    if (reason !== undefined && this.log.isLevelEnabled("debug"))
      this.log.debug({ realm, role, action, allow: false, reason }, "authorize");
    this.onOutcome?.({ realm, role, action, allow: d.allow, ms: performance.now() - started });
    return d;
  }
}

function isThenable(v: unknown): v is PromiseLike<CompiledRules | null> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** An own string property of 1..255 characters, or null. */
function readName(obj: unknown, key: "authrole" | "authid"): string | null {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj) || !Object.hasOwn(obj, key)) return null;
  const v = (obj as Record<string, unknown>)[key];
  return typeof v === "string" && v.length > 0 && v.length <= MAX_NAME ? v : null;
}

/** `options.match`: absent → exact; one of the three kinds; anything else (or junk options) → null. */
function readMatch(options: unknown): RequestMatch | null {
  if (options === undefined || options === null) return "exact";
  if (typeof options !== "object" || Array.isArray(options)) return null;
  if (!Object.hasOwn(options, "match")) return "exact";
  const m = (options as Record<string, unknown>).match;
  return isRequestMatch(m) ? m : null;
}

function parse(session: unknown, role: string | null, uri: unknown, action: unknown, options: unknown): Parsed | null {
  if (role === null || !isAction(action)) return null;
  const authid = readName(session, "authid");
  if (authid === null) return null;
  if (typeof uri !== "string" || uri.length === 0 || uri.length > MAX_URI_LENGTH || hasBadUriChar(uri)) return null;
  const match = readMatch(options);
  if (match === null) return null;
  // Only patterns have empty components (a wildcard's, a prefix's trailing one).
  if (match === "exact" && (uri.startsWith(".") || uri.endsWith(".") || uri.includes(".."))) return null;
  return { role, authid, uri, action, match };
}

/**
 * Crossbar's URI components never hold whitespace (JavaScript's \s) or '#'; control characters have
 * no business there either. A loop over char codes: cheaper than a regular expression per request.
 */
function hasBadUriChar(uri: string): boolean {
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c === 0x23 || (c >= 0x7f && c <= 0xa0)) return true;
    if (
      c >= 0x1680 &&
      (c === 0x1680 ||
        (c >= 0x2000 && c <= 0x200a) ||
        c === 0x2028 ||
        c === 0x2029 ||
        c === 0x202f ||
        c === 0x205f ||
        c === 0x3000 ||
        c === 0xfeff)
    )
      return true;
  }
  return false;
}
