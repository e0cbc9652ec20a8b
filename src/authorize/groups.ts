/**
 * Groups and their nesting, as the session overlay needs them: a user in group G is also in every
 * group that contains G, directly or through other groups; the rules of all those groups apply to
 * the user. Immutable (a change builds a new graph), pure.
 *
 * The store refuses cycles; the walk here is cycle-safe anyway (each group is visited once), so a
 * cycle written past the store could never hang a decision.
 */
import { type CompiledRules, compileRules } from "./matcher.js";
import type { Rule } from "./rules.js";
import { isTemplate } from "./template.js";

export interface Group {
  id: number;
  realm: string;
  name: string;
  /** The group's own rules (source "group", owner the group's name). */
  rules: readonly Rule[];
}

export interface GroupEdge {
  /** The containing group. */
  group_id: number;
  /** The group inside it. */
  subgroup_id: number;
}

const NO_IDS: readonly number[] = Object.freeze([]);
const MAX_COMPILED = 10_000;
const MAX_CHAIN = 8;

export class GroupGraph {
  private readonly groups: ReadonlyMap<number, Group>;
  /** group → the groups directly containing it */
  private readonly parents: ReadonlyMap<number, readonly number[]>;
  /** group → the groups directly inside it */
  private readonly children: ReadonlyMap<number, readonly number[]>;
  /** memo: a group and every group containing it */
  private readonly upward = new Map<number, readonly number[]>();
  /** memo: the compiled plain rules of a set of groups (closure key → set) */
  private readonly compiled = new Map<string, CompiledRules | null>();

  /** The graph this one was derived from by `withRules`, and the group whose rules changed (see unchangedSince). */
  private readonly parent: GroupGraph | null;
  private readonly changed: number | null;
  private readonly depth: number;

  private constructor(
    groups: ReadonlyMap<number, Group>,
    parents: ReadonlyMap<number, readonly number[]>,
    children: ReadonlyMap<number, readonly number[]>,
    parent: GroupGraph | null = null,
    changed: number | null = null,
  ) {
    this.groups = groups;
    this.parents = parents;
    this.children = children;
    // A short chain only: older graphs are released (their sessions' overlays are simply rebuilt).
    this.parent = parent !== null && parent.depth < MAX_CHAIN ? parent : null;
    this.changed = this.parent === null ? null : changed;
    this.depth = this.parent === null ? 0 : this.parent.depth + 1;
  }

  static empty(): GroupGraph {
    return new GroupGraph(new Map(), new Map(), new Map());
  }

  static build(groups: readonly Group[], edges: readonly GroupEdge[]): GroupGraph {
    const byId = new Map<number, Group>();
    for (const g of groups) byId.set(g.id, g);
    const parents = new Map<number, number[]>();
    const children = new Map<number, number[]>();
    for (const e of edges) {
      if (!byId.has(e.group_id) || !byId.has(e.subgroup_id)) continue;
      push(parents, e.subgroup_id, e.group_id);
      push(children, e.group_id, e.subgroup_id);
    }
    return new GroupGraph(byId, parents, children);
  }

  /**
   * The same graph with one group's rules replaced (a change to that group's rules alone). The
   * nesting is unchanged, and so are the compiled rules of every set of groups without that group:
   * they carry over, and sessions outside the group keep their overlays (unchangedSince).
   */
  withRules(groupId: number, rules: readonly Rule[]): GroupGraph {
    const g = this.groups.get(groupId);
    if (!g) return this;
    const groups = new Map(this.groups);
    groups.set(groupId, { ...g, rules });
    const next = new GroupGraph(groups, this.parents, this.children, this, groupId);
    for (const [id, up] of this.upward) next.upward.set(id, up);
    for (const [key, set] of this.compiled) if (!key.split(",").includes(String(groupId))) next.compiled.set(key, set);
    return next;
  }

  /**
   * Whether the rules of the groups `ids` are the same here as in `older`: this graph derives from
   * `older` by rule changes of other groups only. False when that cannot be told (a reload).
   */
  unchangedSince(older: GroupGraph, ids: readonly number[]): boolean {
    if (this === older) return true;
    if (this.changed === null || this.parent === null || ids.includes(this.changed)) return false;
    return this.parent.unchangedSince(older, ids);
  }

  get size(): number {
    return this.groups.size;
  }

  has(id: number): boolean {
    return this.groups.has(id);
  }

  group(id: number): Group | null {
    return this.groups.get(id) ?? null;
  }

  /** Every group a member of the `direct` groups is in: those and every group containing one of them, each once. */
  closure(direct: readonly number[]): number[] {
    if (direct.length === 0) return [];
    if (direct.length === 1) return [...this.up(direct[0] as number)];
    const seen = new Set<number>();
    for (const d of direct) for (const id of this.up(d)) seen.add(id);
    return [...seen];
  }

  /** The rules of the groups `ids` (as closure() lists them). */
  rulesOf(ids: readonly number[]): Rule[] {
    const out: Rule[] = [];
    for (const id of ids) {
      const g = this.groups.get(id);
      if (g) for (const r of g.rules) out.push(r);
    }
    return out;
  }

  /**
   * The plain (non-template) rules of the groups `ids` (a closure) compiled once and shared by every
   * session in the same groups; null when they have none. Their templates are substituted per
   * session instead (`templatesOf`).
   */
  compiledRules(ids: readonly number[], now: number): CompiledRules | null {
    if (ids.length === 0) return null;
    const key = [...ids].sort((a, b) => a - b).join(",");
    if (this.compiled.has(key)) return this.compiled.get(key) ?? null;
    const rules = this.rulesOf(ids).filter((r) => !isTemplate(r.uri));
    const set = rules.length === 0 ? null : compileRules(rules, now, { cacheable: false });
    // Bounded: distinct group sets are few; an unexpected flood only costs recompiling.
    if (this.compiled.size >= MAX_COMPILED) this.compiled.clear();
    this.compiled.set(key, set);
    return set;
  }

  /** The template rules of the groups `ids`. */
  templatesOf(ids: readonly number[]): Rule[] {
    return this.rulesOf(ids).filter((r) => isTemplate(r.uri));
  }

  /** The groups `ids` and every group inside one of them (whose members the groups' rules reach). */
  within(ids: Iterable<number>): Set<number> {
    const seen = new Set<number>();
    const stack = [...ids];
    while (stack.length > 0) {
      const id = stack.pop() as number;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const c of this.children.get(id) ?? NO_IDS) stack.push(c);
    }
    return seen;
  }

  private up(id: number): readonly number[] {
    const memo = this.upward.get(id);
    if (memo) return memo;
    if (!this.groups.has(id)) return NO_IDS;
    const seen = new Set<number>();
    const stack = [id];
    while (stack.length > 0) {
      const g = stack.pop() as number;
      if (seen.has(g)) continue;
      seen.add(g);
      for (const p of this.parents.get(g) ?? NO_IDS) stack.push(p);
    }
    const out = Object.freeze([...seen]);
    this.upward.set(id, out);
    return out;
  }
}

function push(m: Map<number, number[]>, k: number, v: number): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
