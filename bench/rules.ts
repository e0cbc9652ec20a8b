/** Synthetic rule sets and request URIs shared by the matcher and store benchmarks. */
import type { RoleRules } from "../src/authorize/permissionIndex.js";
import type { MatchKind } from "../src/authorize/rules.js";
import { roleRules } from "../src/store/permissionRules.js";
import type { PermissionRow } from "../src/store/queries.js";
import { xorshift32 } from "../test/helpers/rng.js";

export interface RuleSpec {
  uri: string;
  match: MatchKind;
}

/**
 * `n` rules for one role, a mix of 40% exact, 30% prefix and 30% wildcard (a tenth of the wildcards
 * with a wildcard first component, which forces the matcher down both trie branches).
 */
export function ruleSet(n: number, tag = "r"): RuleSpec[] {
  const out: RuleSpec[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 10;
    if (k < 4) out.push({ uri: `com.bench.${tag}${i}.get`, match: "exact" });
    else if (k < 7) out.push({ uri: `com.bench.${tag}${i}.`, match: "prefix" });
    else if (i % 100 === 9) out.push({ uri: `.${tag}${i}.feed`, match: "wildcard" });
    else out.push({ uri: `com.bench.${tag}${i}..feed`, match: "wildcard" });
  }
  return out;
}

/** Request URIs hitting the rules of `ruleSet(n, tag)` (exact, prefix, wildcard) and a share of misses. */
export function requestUris(n: number, count: number, tag = "r", seed = 1): string[] {
  const rnd = xorshift32(seed);
  const out: string[] = [];
  for (let j = 0; j < count; j++) {
    const i = Math.floor(rnd() * n);
    const k = i % 10;
    const miss = rnd() < 0.1;
    if (miss) out.push(`com.other.x${i}.get`);
    else if (k < 4) out.push(`com.bench.${tag}${i}.get`);
    else if (k < 7) out.push(`com.bench.${tag}${i}.orders.list`);
    else if (i % 100 === 9) out.push(`svc.${tag}${i}.feed`);
    else out.push(`com.bench.${tag}${i}.eu.feed`);
  }
  return out;
}

/** The role's rules as the service maps them, for PermissionIndex.build. */
export function roleRulesOf(realm: string, role: string, rules: RuleSpec[], firstId = 1): RoleRules[] {
  return roleRules(permissionRows(realm, role, rules, firstId));
}

/** Rows as loadPermissions returns them. */
function permissionRows(realm: string, role: string, rules: RuleSpec[], firstId = 1): PermissionRow[] {
  return rules.map((r, i) => ({
    realm,
    role,
    id: String(firstId + i),
    uri: r.uri,
    match: r.match,
    allow_call: true,
    allow_register: false,
    allow_publish: false,
    allow_subscribe: true,
    disclose_caller: false,
    disclose_publisher: false,
    cache: false,
    role_id: 1,
    kill_on_change: false,
    deny_call: false,
    deny_register: false,
    deny_publish: false,
    deny_subscribe: false,
    valid_from: null,
    valid_until: null,
  }));
}
