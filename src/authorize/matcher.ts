/**
 * Compiled rule sets: `compileRules(rules, now)` turns a list of rules into lookup structures that
 * answer "which rules decide this URI" in a few map probes, and "which rules can match some URI of
 * this pattern" with range scans and trie walks (decide.ts puts them together).
 *
 * - Rules with the same match kind and URI form one *tier*: they decide together (merge in decide.ts).
 * - Exact rules: a Map, plus a sorted URI array for range scans.
 * - Prefix rules: a Map probed once per distinct prefix length (longest first), plus a sorted array.
 * - Wildcard rules: a trie over components; an empty rule component is the `any` branch. Depth-first,
 *   literal before `any`: the leftmost literal component makes a wildcard rule more specific.
 * - Time windows are applied here: only rules active at `now` are compiled; `nextChange` is the
 *   earliest later instant at which a rule starts or ends (null: never). `at(now)` recompiles a set
 *   that has gone stale (memoized), so a late owner never serves an expired rule.
 * - Template rules (placeholders in the URI) are not compiled in: they are kept in `templates` for
 *   the per-session overlay (overlay.ts), and a set holding any never lets the router cache.
 * - A rule the compiler cannot interpret is dropped; if it denies anything, the whole set denies
 *   everything (`denyAll`) rather than silently lifting that denial.
 */
import { ACTIONS, type Action, type Decision, type MatchKind, type Rule, hasWindow } from "./rules.js";
import { isTemplate } from "./template.js";
import { MAX_URI_LENGTH } from "./uri.js";
import { META_PREFIX } from "./uriSets.js";

/** The eight possible answers, shared and frozen: a decision on the hot path allocates nothing. */
const ANSWERS: readonly Decision[] = Array.from({ length: 8 }, (_, i) =>
  Object.freeze({ allow: (i & 4) !== 0, disclose: (i & 2) !== 0, cache: (i & 1) !== 0 }),
);

export function answerOf(allow: boolean, disclose: boolean, cache: boolean): Decision {
  return ANSWERS[(allow ? 4 : 0) | (allow && disclose ? 2 : 0) | (allow && cache ? 1 : 0)] as Decision;
}

/** Deny, uncached (so a later grant applies at once): nothing matches, or anything else that denies. */
export const NO_MATCH: Decision = answerOf(false, false, false);

export const BIT: Readonly<Record<Action, number>> = Object.freeze({ call: 1, register: 2, publish: 4, subscribe: 8 });

/**
 * Only call and publish answers may be cached. Crossbar's cache key (realm, role, uri, action)
 * leaves out `options.match`: a cached allow for an exact subscribe/register of `com.x` would also
 * answer a prefix or wildcard subscription/registration of the pattern `com.x`.
 */
export const CACHEABLE_ACTIONS = BIT.call | BIT.publish;

/** The rules sharing one match kind and URI; they decide together. */
export interface Tier {
  readonly kind: MatchKind;
  readonly uri: string;
  /** Wildcards: one character per component, "b" literal, "a" any; a greater shape is more specific. */
  readonly shape: string;
  readonly rules: readonly Rule[];
  /** Actions some rule allows / some rule explicitly denies / some allowing rule discloses (bits of BIT). */
  readonly allowBits: number;
  readonly denyBits: number;
  readonly discloseBits: number;
  /** The router may cache this tier's call/publish allows (role rules with cache set, no window, no template, cacheable set). */
  readonly cacheable: boolean;
  /** This tier's answer per action, when it decides alone. */
  readonly answers: Readonly<Record<Action, Decision>>;
}

export interface CompileOptions {
  /**
   * Whether answers from this set may be cached by the router. Crossbar caches per (realm, role,
   * uri, action), so a role's set must not be cacheable when any session of the role has rules of
   * its own (users, groups): pass false then. Overlays are never cached. Default true.
   */
  cacheable?: boolean;
  /**
   * Rules that could not be applied but deny something (a template whose value is invalid for
   * this session): the set denies everything rather than dropping those denials.
   */
  failedDenials?: readonly Rule[];
  /**
   * An overlay's part shared with other sessions (the compiled rules of the groups a session is
   * in): decisions look it up beside the overlay's own rules, as a third set. Its windows count
   * in the overlay's `nextChange`.
   */
  shared?: CompiledRules;
}

interface Node {
  literal: Map<string, Node>;
  any: Node | null;
  tier: Tier | null;
}

function newNode(): Node {
  return { literal: new Map(), any: null, tier: null };
}

/** Tiers with the same flags share one frozen answer table (at most 2^13 of them, typically a handful). */
const ANSWER_TABLES = new Map<number, Readonly<Record<Action, Decision>>>();

function answerTable(allowBits: number, denyBits: number, discloseBits: number, cacheable: boolean): Readonly<Record<Action, Decision>> {
  const k = allowBits | (denyBits << 4) | (discloseBits << 8) | (cacheable ? 1 << 12 : 0);
  let table = ANSWER_TABLES.get(k);
  if (!table) {
    const ok = allowBits & ~denyBits;
    const one = (bit: number) => answerOf((ok & bit) !== 0, (discloseBits & bit) !== 0, cacheable && (bit & CACHEABLE_ACTIONS) !== 0);
    table = Object.freeze({ call: one(1), register: one(2), publish: one(4), subscribe: one(8) });
    ANSWER_TABLES.set(k, table);
  }
  return table;
}

function tierOf(kind: MatchKind, uri: string, rules: readonly Rule[], setCacheable: boolean): Tier {
  let allowBits = 0;
  let denyBits = 0;
  let discloseBits = 0;
  let cacheable = setCacheable;
  for (const r of rules) {
    const allow = r.allow;
    const deny = r.deny;
    if (allow.call) allowBits |= 1;
    if (allow.register) allowBits |= 2;
    if (allow.publish) allowBits |= 4;
    if (allow.subscribe) allowBits |= 8;
    if (deny.call) denyBits |= 1;
    if (deny.register) denyBits |= 2;
    if (deny.publish) denyBits |= 4;
    if (deny.subscribe) denyBits |= 8;
    if (allow.call && r.disclose.caller) discloseBits |= 1;
    if (allow.publish && r.disclose.publisher) discloseBits |= 4;
    if (r.source !== "role" || !r.cache || hasWindow(r) || r.template !== undefined) cacheable = false;
  }
  const shape = kind === "wildcard" ? wildcardShape(uri) : "";
  return {
    kind,
    uri,
    shape,
    rules,
    allowBits,
    denyBits,
    discloseBits,
    cacheable,
    answers: answerTable(allowBits, denyBits, discloseBits, cacheable),
  };
}

function wildcardShape(uri: string): string {
  let shape = "";
  for (const c of uri.split(".")) shape += c === "" ? "a" : "b";
  return shape;
}

const BAD_URI_CHAR = /[\s#]/;

/** Why a rule cannot be compiled, or null. Rules come typed from the store; this guards the rest. */
export function ruleProblem(r: Rule): string | null {
  if (typeof r.uri !== "string" || r.uri.length > MAX_URI_LENGTH) return "bad uri";
  if (r.match !== "exact" && r.match !== "prefix" && r.match !== "wildcard") return "bad match kind";
  if (r.match === "exact" && r.uri === "") return "empty exact uri";
  if (BAD_URI_CHAR.test(r.uri)) return "uri holds whitespace or '#'";
  const { allow, deny } = r;
  if (typeof allow !== "object" || allow === null || typeof deny !== "object" || deny === null) return "bad allow/deny flags";
  if (
    typeof allow.call !== "boolean" ||
    typeof allow.register !== "boolean" ||
    typeof allow.publish !== "boolean" ||
    typeof allow.subscribe !== "boolean"
  )
    return "bad allow flags";
  if (
    typeof deny.call !== "boolean" ||
    typeof deny.register !== "boolean" ||
    typeof deny.publish !== "boolean" ||
    typeof deny.subscribe !== "boolean"
  )
    return "bad deny flags";
  if ((r.validFrom !== null && !Number.isFinite(r.validFrom)) || (r.validUntil !== null && !Number.isFinite(r.validUntil)))
    return "bad time window";
  if (typeof r.disclose !== "object" || r.disclose === null) return "bad disclose flags";
  return null;
}

/**
 * Sets of at most this many tiers (an overlay: a session's own rules and substituted templates)
 * answer `best()` with one linear scan of a short array ordered by specificity: with many sessions
 * their overlays are rarely in the CPU cache, and one array touches less memory than the maps and
 * the trie.
 */
const SMALL_SET = 12;

interface SmallTier {
  tier: Tier;
  /** 0 exact, 1 wildcard, 2 prefix */
  kind: 0 | 1 | 2;
  /** wildcard components ("" = any one component) */
  parts: readonly string[];
  /** A wildcard with an empty first component: it never reaches `wamp.` */
  anyFirst: boolean;
}

/** Whether the wildcard `rule` (components) matches the concrete `uri`, without splitting it. */
function wildcardMatchesUri(rule: readonly string[], uri: string): boolean {
  let start = 0;
  const n = rule.length;
  for (let i = 0; i < n; i++) {
    let end = uri.indexOf(".", start);
    if (i === n - 1) {
      if (end !== -1) return false;
      end = uri.length;
    } else if (end === -1) return false;
    // No URI component is empty; a request that has one matches no wildcard.
    if (end === start) return false;
    const r = rule[i] as string;
    if (r.length > 0 && (end - start !== r.length || !uri.startsWith(r, start))) return false;
    start = end + 1;
  }
  return true;
}

/** A small set's tiers: exact ones (by URI), wildcards (leftmost literal first), then prefixes (longest first). */
function smallTiers(exact: ReadonlyMap<string, Tier>, prefixes: ReadonlyMap<string, Tier>, root: Node): SmallTier[] {
  const out: SmallTier[] = [];
  for (const t of [...exact.values()].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0)))
    out.push({ tier: t, kind: 0, parts: NO_URIS, anyFirst: false });
  const wild: SmallTier[] = [];
  const walk = (n: Node) => {
    if (n.tier) {
      const parts = n.tier.uri.split(".");
      wild.push({ tier: n.tier, kind: 1, parts, anyFirst: parts[0] === "" });
    }
    for (const c of n.literal.values()) walk(c);
    if (n.any) walk(n.any);
  };
  walk(root);
  wild.sort((a, b) => (a.tier.shape < b.tier.shape ? 1 : a.tier.shape > b.tier.shape ? -1 : 0));
  out.push(...wild);
  for (const t of [...prefixes.values()].sort((a, b) => b.uri.length - a.uri.length || (a.uri < b.uri ? -1 : 1)))
    out.push({ tier: t, kind: 2, parts: NO_URIS, anyFirst: false });
  return out;
}

/**
 * The trie walk of `walkWildcards` as a test of one wildcard rule (`rule` components) against the
 * wildcard request `parts`: same length; a literal rule component must equal a literal request
 * component (or, when `meeting`, may meet a request wildcard); a rule wildcard matches anything but,
 * with `meta`, not in the first position.
 */
function wildcardWalks(rule: readonly string[], parts: readonly string[], meta: boolean, meeting: boolean): boolean {
  if (rule.length !== parts.length) return false;
  for (let i = 0; i < parts.length; i++) {
    const r = rule[i] as string;
    const c = parts[i] as string;
    if (r === "") {
      if (meta && i === 0) return false;
    } else if (c === "" ? !meeting : r !== c) return false;
  }
  return true;
}

/** The trie walk of `wildcardsMeetingPrefix` as a test of one wildcard rule against the prefix's components `q`. */
function wildcardMeetsPrefix(rule: readonly string[], q: readonly string[], meta: boolean): boolean {
  const k = q.length - 1;
  if (rule.length < k + 1) return false;
  for (let i = 0; i < k; i++) {
    const c = q[i] as string;
    const r = rule[i] as string;
    if (c === "") return false;
    if (r === "" ? meta && i === 0 : r !== c) return false;
  }
  const r = rule[k] as string;
  const partial = q[k] as string;
  return r === "" ? !(meta && k === 0) : r.startsWith(partial);
}

const EMPTY_TIERS: ReadonlyMap<string, Tier> = new Map();
const EMPTY_HASHES: ReadonlySet<number> = new Set();
const NO_URIS: readonly string[] = Object.freeze([]);
const EMPTY_NODE: Node = Object.freeze({ literal: new Map<string, Node>(), any: null, tier: null });

/** Scratch space for the prefix hashes of one lookup (URIs are at most MAX_URI_LENGTH long). */
const PREFIX_HASHES = new Int32Array(MAX_URI_LENGTH + 1);

/** A small-integer key for a prefix's hash and length (fits V8's small integers, so the Set stays fast). */
function hashKey(h: number, len: number): number {
  return (h ^ Math.imul(len, 0x9e3779b1)) & 0x3fffffff;
}

function prefixHash(p: string): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) h = (Math.imul(h, 31) + p.charCodeAt(i)) | 0;
  return hashKey(h, p.length);
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class CompiledRules {
  /** Rules compiled into the lookup structures (active, non-template, valid). */
  readonly size: number;
  /** The earliest instant after `compiledAt` at which a rule starts or ends, or null. */
  readonly nextChange: number | null;
  readonly compiledAt: number;
  /** Template rules (every one, windows untouched): substituted per session into the overlay. */
  readonly templates: readonly Rule[];
  /** Rules that could not be compiled (dropped). */
  readonly invalid: readonly Rule[];
  /** A dropped rule denied something: every decision involving this set is a denial. */
  readonly denyAll: boolean;
  /** The shared part of an overlay (see CompileOptions.shared), or null. */
  readonly shared: CompiledRules | null;

  private readonly exact: ReadonlyMap<string, Tier>;
  private readonly prefixes: ReadonlyMap<string, Tier>;
  /** Distinct prefix lengths, longest first: a lookup probes one Map entry per length. */
  private readonly prefixLengths: number[];
  /** hashKey of every prefix rule's URI: most probes end here without building a substring. */
  private readonly prefixHashes: ReadonlySet<number>;
  private readonly wildRoot: Node;
  readonly hasWildcards: boolean;
  /** Every tier in specificity order, for a small set (see SMALL_SET); null for a large one. */
  private readonly small: readonly SmallTier[] | null;
  /** best() of this set splits the URI (a large set with wildcard rules): callers may pass the parts. */
  readonly usesParts: boolean;
  private readonly exactSorted: readonly string[];
  private readonly prefixSorted: readonly string[];
  private readonly source: readonly Rule[];
  private readonly options: CompileOptions;
  private successor: CompiledRules | null = null;

  private constructor(source: readonly Rule[], now: number, options: CompileOptions) {
    this.source = source;
    this.options = options;
    this.compiledAt = now;
    const setCacheable = options.cacheable ?? true;
    const templates: Rule[] = [];
    const invalid: Rule[] = [...(options.failedDenials ?? [])];
    let next: number | null = null;
    let denyAll = invalid.length > 0;
    let size = 0;
    const later = (t: number | null) => {
      if (t !== null && t > now && (next === null || t < next)) next = t;
    };
    this.shared = options.shared ?? null;
    if (this.shared !== null) later(this.shared.at(now).nextChange);
    // Sessions of a role with templates get rules of their own: the role's answers are session-dependent.
    const cacheable = setCacheable && !source.some((r) => typeof r.uri === "string" && isTemplate(r.uri));
    let wildcards = 0;
    const exactMap = new Map<string, Tier>();
    const prefixMap = new Map<string, Tier>();
    const wildRoot = newNode();
    const ties = new Map<string, { node: Node | null; rules: Rule[]; first: Tier }>();
    for (const r of source) {
      if (ruleProblem(r) !== null) {
        invalid.push(r);
        if (deniesAnySafe(r)) denyAll = true;
        continue;
      }
      if (isTemplate(r.uri)) {
        templates.push(r);
        continue;
      }
      // Outside its window a rule does not exist; note when that changes.
      later(r.validFrom);
      later(r.validUntil);
      if ((r.validFrom !== null && r.validFrom > now) || (r.validUntil !== null && r.validUntil <= now)) continue;
      // One tier per (kind, URI); several rules there (ties across sources) decide together.
      size++;
      const node = r.match === "wildcard" ? wildcardNode(wildRoot, r.uri) : null;
      const map = r.match === "exact" ? exactMap : prefixMap;
      const had = node ? node.tier : map.get(r.uri);
      if (had) {
        const k = `${r.match}\u0000${r.uri}`;
        const tie = ties.get(k);
        if (tie) tie.rules.push(r);
        else ties.set(k, { node, rules: [...had.rules, r], first: had });
        continue;
      }
      const tier = tierOf(r.match, r.uri, [r], cacheable);
      if (node) {
        node.tier = tier;
        wildcards++;
      } else {
        map.set(r.uri, tier);
      }
    }
    for (const { node, rules, first } of ties.values()) {
      const tier = tierOf(first.kind, first.uri, rules, cacheable);
      if (node) node.tier = tier;
      else (first.kind === "exact" ? exactMap : prefixMap).set(first.uri, tier);
    }
    this.hasWildcards = wildcards > 0;
    if (exactMap.size + prefixMap.size + wildcards <= SMALL_SET) {
      // A small set keeps one array and shares empty structures: many sessions' overlays stay small in memory.
      this.small = smallTiers(exactMap, prefixMap, wildRoot);
      this.exact = EMPTY_TIERS;
      this.prefixes = EMPTY_TIERS;
      this.wildRoot = EMPTY_NODE;
      this.prefixLengths = [];
      this.prefixHashes = EMPTY_HASHES;
      this.exactSorted = NO_URIS;
      this.prefixSorted = NO_URIS;
    } else {
      this.small = null;
      this.exact = exactMap;
      this.prefixes = prefixMap;
      this.wildRoot = wildRoot;
      this.prefixLengths = [...new Set([...prefixMap.keys()].map((k) => k.length))].sort((a, b) => b - a);
      this.prefixHashes = new Set([...prefixMap.keys()].map(prefixHash));
      this.exactSorted = [...exactMap.keys()].sort();
      this.prefixSorted = [...prefixMap.keys()].sort();
    }
    this.usesParts = this.hasWildcards && this.small === null;
    this.size = size;
    this.nextChange = next;
    this.templates = Object.freeze(templates);
    this.invalid = Object.freeze(invalid);
    this.denyAll = denyAll;
  }

  static compile(rules: readonly Rule[], now: number, options: CompileOptions = {}): CompiledRules {
    return new CompiledRules(rules, now, options);
  }

  /** This set as it stands at `now`: itself while no window has opened or closed since, else a recompiled copy (memoized). */
  at(now: number): CompiledRules {
    if (this.nextChange === null || now < this.nextChange) return this;
    const s = this.successor;
    if (s !== null && (s.nextChange === null || now < s.nextChange) && now >= s.compiledAt) return s;
    return (this.successor = new CompiledRules(this.source, now, this.options));
  }

  /** The tier deciding a concrete URI: exact, then wildcard, then the longest prefix. `meta`: skip catch-alls; `parts`: the URI split on "." if at hand. */
  best(uri: string, meta: boolean, parts?: readonly string[]): Tier | null {
    const small = this.small;
    if (small !== null) {
      for (let i = 0; i < small.length; i++) {
        const s = small[i] as SmallTier;
        const t = s.tier;
        if (s.kind === 0) {
          if (t.uri === uri) return t;
        } else if (s.kind === 1) {
          if (!(meta && s.anyFirst) && wildcardMatchesUri(s.parts, uri)) return t;
        } else if ((!meta || t.uri.length >= META_PREFIX.length) && uri.startsWith(t.uri)) return t;
      }
      return null;
    }
    const exact = this.exact.get(uri);
    if (exact) return exact;
    if (this.hasWildcards) {
      const wild = matchWildcard(this.wildRoot, parts ?? uri.split("."), 0, meta);
      if (wild) return wild;
    }
    return this.longestPrefix(uri, meta);
  }

  /** The longest prefix rule that `s` starts with. In the meta namespace only prefixes naming `wamp.` count. */
  longestPrefix(s: string, meta: boolean): Tier | null {
    const small = this.small;
    if (small !== null) {
      for (let i = 0; i < small.length; i++) {
        const x = small[i] as SmallTier;
        if (x.kind === 2 && (!meta || x.tier.uri.length >= META_PREFIX.length) && s.startsWith(x.tier.uri)) return x.tier;
      }
      return null;
    }
    const lengths = this.prefixLengths;
    if (lengths.length === 0) return null;
    const min = meta ? META_PREFIX.length : 0;
    // Hash every prefix of `s` once; slice and look up only where a rule's hash matches.
    const hashes = PREFIX_HASHES;
    const upto = Math.min(lengths[0] as number, s.length);
    let h = 0;
    for (let i = 0; i < upto; i++) {
      h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
      hashes[i + 1] = h;
    }
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i] as number;
      if (len > s.length) continue;
      if (len < min) break;
      if (!this.prefixHashes.has(hashKey(hashes[len] as number, len))) continue;
      const hit = this.prefixes.get(len === s.length ? s : s.slice(0, len));
      if (hit) return hit;
    }
    return null;
  }

  /** Whether a catch-all rule (short prefix, or a wildcard with an empty first component) would match `uri`. */
  catchAllMatches(uri: string): boolean {
    if (this.small !== null) {
      return this.small.some(
        (x) =>
          (x.kind === 2 && x.tier.uri.length < META_PREFIX.length && uri.startsWith(x.tier.uri)) ||
          (x.kind === 1 && x.anyFirst && wildcardMatchesUri(x.parts, uri)),
      );
    }
    for (const len of this.prefixLengths) {
      if (len < META_PREFIX.length && len <= uri.length && this.prefixes.has(uri.slice(0, len))) return true;
    }
    const any = this.wildRoot.any;
    if (!any) return false;
    const parts = uri.split(".");
    return parts[0] !== "" && matchWildcard(any, parts, 1, false) !== null;
  }

  /** Exact tiers whose URI starts with `s`. */
  exactsStartingWith(s: string): Tier[] {
    if (this.small !== null) return this.small.filter((x) => x.kind === 0 && x.tier.uri.startsWith(s)).map((x) => x.tier);
    return rangeOf(this.exactSorted, s).map((u) => this.exact.get(u) as Tier);
  }

  /** Prefix tiers whose URI starts with `s` (including `s` itself). */
  prefixesStartingWith(s: string): Tier[] {
    if (this.small !== null) return this.small.filter((x) => x.kind === 2 && x.tier.uri.startsWith(s)).map((x) => x.tier);
    return rangeOf(this.prefixSorted, s).map((u) => this.prefixes.get(u) as Tier);
  }

  /** Wildcard tiers matching some URI that starts with `p`. */
  wildcardsMeetingPrefix(p: string, meta: boolean): Tier[] {
    const out: Tier[] = [];
    if (!this.hasWildcards) return out;
    const q = p.split(".");
    if (this.small !== null) {
      for (const x of this.small) if (x.kind === 1 && wildcardMeetsPrefix(x.parts, q, meta)) out.push(x.tier);
      return out;
    }
    const k = q.length - 1;
    let level: Node[] = [this.wildRoot];
    for (let i = 0; i < k && level.length > 0; i++) {
      const c = q[i] as string;
      const nextLevel: Node[] = [];
      for (const n of level) {
        if (c === "") continue; // no URI has an empty component
        const lit = n.literal.get(c);
        if (lit) nextLevel.push(lit);
        if (n.any && !(meta && i === 0)) nextLevel.push(n.any);
      }
      level = nextLevel;
    }
    const partial = q[k] as string;
    for (const n of level) {
      for (const [key, child] of n.literal) if (key.startsWith(partial)) collect(child, out);
      if (n.any && !(meta && k === 0)) collect(n.any, out);
    }
    return out;
  }

  /** Wildcard tiers that can match some URI the wildcard `parts` matches. */
  wildcardsMeeting(parts: readonly string[], meta: boolean): Tier[] {
    return this.walkWildcards(parts, meta, true);
  }

  /** Wildcard tiers matching every URI the wildcard `parts` matches. */
  wildcardsCovering(parts: readonly string[], meta: boolean): Tier[] {
    return this.walkWildcards(parts, meta, false);
  }

  private walkWildcards(parts: readonly string[], meta: boolean, meeting: boolean): Tier[] {
    if (!this.hasWildcards) return [];
    if (this.small !== null)
      return this.small.filter((x) => x.kind === 1 && wildcardWalks(x.parts, parts, meta, meeting)).map((x) => x.tier);
    let level: Node[] = [this.wildRoot];
    for (let i = 0; i < parts.length && level.length > 0; i++) {
      const c = parts[i] as string;
      const nextLevel: Node[] = [];
      for (const n of level) {
        if (c !== "") {
          const lit = n.literal.get(c);
          if (lit) nextLevel.push(lit);
        } else if (meeting) {
          for (const child of n.literal.values()) nextLevel.push(child);
        }
        if (n.any && !(meta && i === 0)) nextLevel.push(n.any);
      }
      level = nextLevel;
    }
    const out: Tier[] = [];
    for (const n of level) if (n.tier) out.push(n.tier);
    return out;
  }
}

/** A malformed rule counts as denying unless its deny flags are readable and all false: fail closed. */
function deniesAnySafe(r: Rule): boolean {
  try {
    return typeof r.deny !== "object" || r.deny === null || ACTIONS.some((a) => r.deny[a] !== false);
  } catch {
    return true;
  }
}

/** A shortcut for `CompiledRules.compile`. */
export function compileRules(rules: readonly Rule[], now: number, options: CompileOptions = {}): CompiledRules {
  return CompiledRules.compile(rules, now, options);
}

function rangeOf(sorted: readonly string[], s: string): string[] {
  const out: string[] = [];
  for (let i = lowerBound(sorted, s); i < sorted.length; i++) {
    const u = sorted[i] as string;
    if (!u.startsWith(s)) break;
    out.push(u);
  }
  return out;
}

function collect(node: Node, out: Tier[]): void {
  if (node.tier) out.push(node.tier);
  for (const child of node.literal.values()) collect(child, out);
  if (node.any) collect(node.any, out);
}

/** The trie node of a wildcard URI, created on the way. */
function wildcardNode(root: Node, uri: string): Node {
  let node = root;
  for (const part of uri.split(".")) {
    if (part === "") {
      node.any ??= newNode();
      node = node.any;
    } else {
      let next = node.literal.get(part);
      if (!next) node.literal.set(part, (next = newNode()));
      node = next;
    }
  }
  return node;
}

/**
 * Depth-first, literal components before the wildcard one: the leftmost literal match wins.
 * `meta` skips the root's wildcard
 * branch: a rule whose first component is a wildcard never reaches `wamp.`.
 */
function matchWildcard(node: Node, parts: readonly string[], i: number, meta: boolean): Tier | null {
  if (i === parts.length) return node.tier;
  const part = parts[i] as string;
  // No URI component is empty; a request that has one (not a valid URI) matches no wildcard.
  if (part === "") return null;
  const lit = node.literal.get(part);
  if (lit) {
    const found = matchWildcard(lit, parts, i + 1, false);
    if (found) return found;
  }
  if (meta && i === 0) return null;
  return node.any ? matchWildcard(node.any, parts, i + 1, false) : null;
}
