/**
 * The authorization decision: one written rule for every source.
 *
 * Inputs: the role's compiled rules (`base`, shared by every session of the role) and the session's
 * own compiled rules (`overlay`: its user rules, its groups' rules, templates substituted for it;
 * null when it has none). Both are CompiledRules (matcher.ts). An overlay may carry a `shared`
 * part (the compiled rules of the session's groups, shared by every session in the same groups):
 * it is a third set, compared like the other two.
 *
 * 1. Reserved URIs win over every rule (reserved.ts): router-only URIs are denied, user-facing ones
 *    are denied for everything but `call`, and a pattern that can match any of them is denied.
 * 2. A set holding an uninterpretable denying rule (`denyAll`) denies everything.
 * 3. The most specific match wins: an exact rule, then a wildcard rule (the leftmost literal
 *    component first), then the longest prefix rule. The best match of base and of overlay are
 *    compared; at the same specificity (same match kind and URI) their rules are merged.
 * 4. Rules at one specificity are merged per action: any explicit deny ⇒ denied; else any allow
 *    ⇒ allowed; else not allowed. An action the deciding rules don't mention is denied: there is no
 *    fall-through to less specific rules. Nothing matching ⇒ denied (`no-match`).
 * 5. `disclose`: for call the caller flag, for publish the publisher flag, OR-ed over the deciding
 *    rules that allow the action; never set on a denial.
 * 6. `cache: true` only for a call/publish allow decided by base rules alone (no overlay) whose
 *    rules are all role rules with `cache` set, no time window, no template, in a set compiled
 *    cacheable. Crossbar keeps cached answers per (realm, role, uri, action) for every session of
 *    the role until it restarts, so denials, session-dependent answers and patterns are never
 *    cached; nor are subscribe/register answers, because that key leaves out `options.match`
 *    (a cached exact subscribe of `com.x` would answer a prefix subscription of `com.x`).
 * 7. The `wamp.` meta namespace is reached only by rules naming it (exact `wamp.…`, a prefix
 *    starting with `wamp.`, a wildcard whose first component is `wamp`): catch-alls (prefix `""`,
 *    any prefix shorter than `wamp.`, wildcards with an empty first component) skip it.
 *
 * Pattern requests (`match: prefix|wildcard`: the URI is a pattern) are allowed only if the rules
 * allow every URI the pattern can match: the most specific rule covering the whole pattern allows
 * the action, and every more specific rule that may match some URI of it allows too (exact rules
 * under it, longer prefix rules, intersecting wildcard rules; base and overlay merged per rule URI).
 * A pattern that can match `wamp.` URIs without lying inside `wamp.` is denied. Never cached.
 */
import { BIT, CACHEABLE_ACTIONS, type CompiledRules, NO_MATCH, type Tier, answerOf } from "./matcher.js";
import type { ReservedUris } from "./reserved.js";
import type { Action, Decision, Reason, Request, Rule, Verdict } from "./rules.js";
import { fixedLead, inMeta, patternLeaksIntoMeta, prefixMeetsWildcard, wildcardMatches } from "./uriSets.js";

const RANK = { exact: 3, wildcard: 2, prefix: 1 } as const;

/** Positive when `a` is more specific than `b` for a URI both match; 0 for the same tier key. */
function compareTiers(a: Tier, b: Tier): number {
  if (a.kind !== b.kind) return RANK[a.kind] - RANK[b.kind];
  if (a.kind === "prefix") return a.uri.length - b.uri.length;
  if (a.kind === "wildcard") return a.shape < b.shape ? -1 : a.shape > b.shape ? 1 : 0;
  return 0;
}

/** The most specific of the candidates; all of them on a tie (they share kind and URI). */
function mostSpecific(candidates: readonly Tier[]): Tier[] {
  let best: Tier[] = [];
  for (const t of candidates) {
    const c = best.length === 0 ? 1 : compareTiers(t, best[0] as Tier);
    if (c > 0) best = [t];
    else if (c === 0) best.push(t);
  }
  return best;
}

function allows(tiers: readonly Tier[], action: Action): boolean {
  let allow = 0;
  let deny = 0;
  for (const t of tiers) {
    allow |= t.allowBits;
    deny |= t.denyBits;
  }
  return (allow & ~deny & BIT[action]) !== 0;
}

function rulesOf(tiers: readonly Tier[]): Rule[] {
  return tiers.flatMap((t) => t.rules);
}

function deny(reason: Reason, rules: Rule[] = []): Verdict {
  return { allow: false, disclose: false, cache: false, rules, reason };
}

/** push(...xs) without spreading arguments (a broad pattern over a large set can list very many tiers). */
function append<T>(to: T[], xs: readonly T[]): void {
  for (const x of xs) to.push(x);
}

function key(t: Tier): string {
  return `${t.kind}\u0000${t.uri}`;
}

/** Groups tiers of base and overlay by rule key (kind + URI): each group decides together. */
function byKey(tiers: readonly Tier[]): Tier[][] {
  const groups = new Map<string, Tier[]>();
  for (const t of tiers) {
    const k = key(t);
    const g = groups.get(k);
    if (g) g.push(t);
    else groups.set(k, [t]);
  }
  return [...groups.values()];
}

/**
 * Decisions against one service's reserved URIs. Stateless apart from them; every method is pure.
 */
export class Decider {
  constructor(readonly reserved: ReservedUris) {}

  /**
   * The hot path: an exact request without an overlay. Returns one of eight shared frozen
   * `{allow, disclose, cache}` objects; allocates nothing (bar a split when wildcard rules exist).
   */
  answer(base: CompiledRules | null, uri: string, action: Action, now?: number): Decision {
    const kind = this.reserved.kind(uri);
    if (kind !== null && (kind === "router" || action !== "call")) return NO_MATCH;
    if (base === null) return NO_MATCH;
    const set = now === undefined ? base : base.at(now);
    if (set.denyAll) return NO_MATCH;
    const tier = set.best(uri, inMeta(uri));
    return tier ? tier.answers[action] : NO_MATCH;
  }

  /**
   * An exact request with the session's overlay (and its shared part, the groups' rules): like
   * `answer` (shared objects), never cached when an overlay is given.
   */
  answerWith(base: CompiledRules | null, overlay: CompiledRules | null, uri: string, action: Action, now?: number): Decision {
    if (overlay === null) return this.answer(base, uri, action, now);
    const kind = this.reserved.kind(uri);
    if (kind !== null && (kind === "router" || action !== "call")) return NO_MATCH;
    const b = base === null ? null : now === undefined ? base : base.at(now);
    const o = now === undefined ? overlay : overlay.at(now);
    const sh = o.shared === null ? null : now === undefined ? o.shared : o.shared.at(now);
    if (b?.denyAll || o.denyAll || sh?.denyAll) return NO_MATCH;
    const meta = inMeta(uri);
    // One split for every set with wildcard rules.
    const wild = (b?.usesParts ? 1 : 0) + (o.usesParts ? 1 : 0) + (sh?.usesParts ? 1 : 0);
    const parts = wild > 1 ? uri.split(".") : undefined;
    const bt = b === null ? null : b.best(uri, meta, parts);
    const ot = o.best(uri, meta, parts);
    const st = sh === null ? null : sh.best(uri, meta, parts);
    // The most specific tier decides; at the same specificity all of them do (merged).
    let top = bt;
    if (ot !== null && (top === null || compareTiers(ot, top) > 0)) top = ot;
    if (st !== null && (top === null || compareTiers(st, top) > 0)) top = st;
    if (top === null) return NO_MATCH;
    let allow = 0;
    let denied = 0;
    let disclose = 0;
    if (bt !== null && compareTiers(bt, top) === 0) {
      allow |= bt.allowBits;
      denied |= bt.denyBits;
      disclose |= bt.discloseBits;
    }
    if (ot !== null && compareTiers(ot, top) === 0) {
      allow |= ot.allowBits;
      denied |= ot.denyBits;
      disclose |= ot.discloseBits;
    }
    if (st !== null && compareTiers(st, top) === 0) {
      allow |= st.allowBits;
      denied |= st.denyBits;
      disclose |= st.discloseBits;
    }
    const bit = BIT[action];
    return answerOf((allow & ~denied & bit) !== 0, (disclose & bit) !== 0, false);
  }

  /** The full verdict: the answer, the deciding rules and why. For logs, `check`, tests and pattern requests. */
  decide(base: CompiledRules | null, overlay: CompiledRules | null, request: Request, now?: number): Verdict {
    const b = base === null || now === undefined ? base : base.at(now);
    const o = overlay === null || now === undefined ? overlay : overlay.at(now);
    const sh = o === null || o.shared === null ? null : now === undefined ? o.shared : o.shared.at(now);
    const { uri, action, match } = request;
    if (match === "exact") {
      const kind = this.reserved.kind(uri);
      if (kind !== null && (kind === "router" || action !== "call")) return deny("reserved");
    } else {
      const parts = uri.split(".");
      if (this.reserved.meetsPattern(match, uri, parts)) return deny("reserved");
    }
    if (b?.denyAll || o?.denyAll || sh?.denyAll) return deny("invalid-rules");
    const sets = [b, o, sh].filter((s): s is CompiledRules => s !== null);
    if (match === "exact") return decideExact(sets, o !== null, uri, action);
    if (patternLeaksIntoMeta(match, uri, null)) return deny("meta-namespace");
    if (match === "prefix") return decidePrefix(sets, uri, action);
    const parts = uri.split(".");
    // A wildcard pattern without a wildcard component matches that one URI.
    if (!parts.includes("")) return decideExact(sets, true, uri, action);
    return decideWildcard(sets, parts, action);
  }
}

function decideExact(sets: readonly CompiledRules[], sessionDependent: boolean, uri: string, action: Action): Verdict {
  const meta = inMeta(uri);
  const candidates: Tier[] = [];
  for (const s of sets) {
    const t = s.best(uri, meta);
    if (t) candidates.push(t);
  }
  const tiers = mostSpecific(candidates);
  if (tiers.length === 0) {
    const caughtAll = meta && sets.some((s) => s.catchAllMatches(uri));
    return deny(caughtAll ? "meta-namespace" : "no-match");
  }
  let allow = 0;
  let denied = 0;
  let disclose = 0;
  let cacheable = !sessionDependent;
  for (const t of tiers) {
    allow |= t.allowBits;
    denied |= t.denyBits;
    disclose |= t.discloseBits;
    cacheable &&= t.cacheable;
  }
  const bit = BIT[action];
  const allowed = (allow & ~denied & bit) !== 0;
  return {
    allow: allowed,
    disclose: allowed && (disclose & bit) !== 0,
    cache: allowed && cacheable && (bit & CACHEABLE_ACTIONS) !== 0,
    rules: rulesOf(tiers),
    reason: "rule",
  };
}

/** The pattern's answer once its covering tier is known and the more specific tiers are listed. */
function patternVerdict(cover: Tier[], beneath: readonly Tier[], action: Action): Verdict {
  if (cover.length === 0) return deny("no-match");
  if (!allows(cover, action)) return deny("rule", rulesOf(cover));
  for (const group of byKey(beneath)) {
    if (!allows(group, action)) return deny("pattern-blocked", rulesOf(group));
  }
  // Only subscribe/register carry patterns: disclose does not apply to them.
  return { allow: true, disclose: false, cache: false, rules: rulesOf(cover), reason: "rule" };
}

function decidePrefix(sets: readonly CompiledRules[], p: string, action: Action): Verdict {
  const meta = inMeta(p);
  const covering: Tier[] = [];
  const beneath: Tier[] = [];
  for (const s of sets) {
    const c = s.longestPrefix(p, meta);
    if (c) covering.push(c);
    append(beneath, s.exactsStartingWith(p));
    append(
      beneath,
      s.prefixesStartingWith(p).filter((t) => t.uri.length > p.length),
    );
    append(beneath, s.wildcardsMeetingPrefix(p, meta));
  }
  return patternVerdict(mostSpecific(covering), beneath, action);
}

function decideWildcard(sets: readonly CompiledRules[], parts: readonly string[], action: Action): Verdict {
  // patternLeaksIntoMeta rejected an empty first component: the first one is a literal.
  const meta = parts[0] === "wamp";
  const lead = fixedLead(parts);
  const wildCovers: Tier[] = [];
  const prefixCovers: Tier[] = [];
  for (const s of sets) {
    append(wildCovers, s.wildcardsCovering(parts, meta));
    const c = s.longestPrefix(lead, meta);
    if (c) prefixCovers.push(c);
  }
  // Any wildcard rule beats any prefix rule; among wildcards the leftmost literal wins.
  const cover = mostSpecific(wildCovers.length > 0 ? wildCovers : prefixCovers);
  if (cover.length === 0) return deny("no-match");
  const coverTier = cover[0] as Tier;
  const beneath: Tier[] = [];
  for (const s of sets) {
    append(
      beneath,
      s.exactsStartingWith(lead).filter((t) => wildcardMatches(parts, t.uri)),
    );
    const wild = s.wildcardsMeeting(parts, meta);
    append(beneath, coverTier.kind === "wildcard" ? wild.filter((t) => compareTiers(t, coverTier) > 0) : wild);
    if (coverTier.kind === "prefix") {
      append(
        beneath,
        s.prefixesStartingWith(lead).filter((t) => t.uri.length > lead.length && prefixMeetsWildcard(t.uri, parts)),
      );
    }
  }
  return patternVerdict(cover, beneath, action);
}
