import { ACTIONS, type Action, type Decision, type Rule, type Verdict, decisionFor } from "./rules.js";

/** What the router gets when no rule matches: deny, uncached, so a later grant applies at once. */
export const NO_MATCH: Decision = Object.freeze({ allow: false, disclose: false, cache: false });

/** A rule with its four answers built once, frozen: a decision on the hot path allocates nothing. */
interface Compiled {
  rule: Rule;
  answers: Record<Action, Decision>;
}

/** The eight possible answers, shared by every rule (10k rules would otherwise hold 40k copies). */
const ANSWERS: readonly Decision[] = Array.from({ length: 8 }, (_, i) =>
  Object.freeze({ allow: (i & 4) !== 0, disclose: (i & 2) !== 0, cache: (i & 1) !== 0 }),
);

function compile(rule: Rule): Compiled {
  const answers = {} as Record<Action, Decision>;
  for (const a of ACTIONS) {
    const d = decisionFor(rule, a);
    answers[a] = ANSWERS[(d.allow ? 4 : 0) | (d.disclose ? 2 : 0) | (d.cache ? 1 : 0)] as Decision;
  }
  return { rule, answers };
}

/**
 * A per-role index of permission rules, compiled once and queried on every authorize call.
 *
 * Precedence follows Crossbar's static permissions: an exact rule wins, then a wildcard rule,
 * then the longest prefix rule; nothing matching means deny. Unlike Crossbar (see README) an exact
 * rule never shadows a prefix rule for other URIs, and several wildcard rules may share a leading part.
 */
export class RoleMatcher {
  private readonly exact = new Map<string, Compiled>();
  private readonly prefixes = new Map<string, Compiled>();
  /** Distinct prefix lengths, longest first: a lookup probes one Map entry per length. */
  private readonly prefixLengths: number[];
  private readonly wildcardRoot: TrieNode = newNode();
  readonly size: number;

  constructor(rules: readonly Rule[]) {
    for (const rule of rules) {
      switch (rule.match) {
        case "exact":
          this.exact.set(rule.uri, compile(rule));
          break;
        case "prefix":
          this.prefixes.set(rule.uri, compile(rule));
          break;
        case "wildcard":
          insertWildcard(this.wildcardRoot, rule);
          break;
      }
    }
    this.prefixLengths = [...new Set([...this.prefixes.keys()].map((k) => k.length))].sort((a, b) => b - a);
    this.size = rules.length;
  }

  /** The rule that governs `uri`, or null. */
  find(uri: string): Rule | null {
    return this.lookup(uri)?.rule ?? null;
  }

  private lookup(uri: string): Compiled | null {
    const exact = this.exact.get(uri);
    if (exact) return exact;
    if (this.wildcardRoot.literal.size > 0 || this.wildcardRoot.any) {
      const wild = matchWildcard(this.wildcardRoot, uri.split("."), 0);
      if (wild) return wild;
    }
    const lengths = this.prefixLengths;
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i] as number;
      if (len > uri.length) continue;
      const hit = this.prefixes.get(len === uri.length ? uri : uri.slice(0, len));
      if (hit) return hit;
    }
    return null;
  }

  /** The router's answer for `uri` and `action`: a shared frozen object (the hot path). */
  answer(uri: string, action: Action): Decision {
    const hit = this.lookup(uri);
    return hit ? hit.answers[action] : NO_MATCH;
  }

  /** The answer with the rule that decided it (logs, tools, tests). */
  decide(uri: string, action: Action): Verdict {
    const hit = this.lookup(uri);
    // No rule: deny, and never ask the router to cache it, so a later grant takes effect at once.
    if (!hit) return { ...NO_MATCH, rule: null };
    return { ...hit.answers[action], rule: hit.rule };
  }
}

interface TrieNode {
  literal: Map<string, TrieNode>;
  any: TrieNode | null;
  rule: Compiled | null;
}

function newNode(): TrieNode {
  return { literal: new Map(), any: null, rule: null };
}

function insertWildcard(root: TrieNode, rule: Rule): void {
  let node = root;
  for (const part of rule.uri.split(".")) {
    if (part === "") {
      node.any ??= newNode();
      node = node.any;
    } else {
      let next = node.literal.get(part);
      if (!next) {
        next = newNode();
        node.literal.set(part, next);
      }
      node = next;
    }
  }
  // First rule for a pattern wins; the store orders rules by id so this is stable.
  node.rule ??= compile(rule);
}

/** Depth-first, literal components before the wildcard one: the leftmost literal match wins. */
function matchWildcard(node: TrieNode, parts: string[], i: number): Compiled | null {
  if (i === parts.length) return node.rule;
  const part = parts[i] as string;
  // An empty request component (e.g. a wildcard subscription "a..b") matches only an empty rule component.
  if (part !== "") {
    const lit = node.literal.get(part);
    if (lit) {
      const found = matchWildcard(lit, parts, i + 1);
      if (found) return found;
    }
  }
  return node.any ? matchWildcard(node.any, parts, i + 1) : null;
}
