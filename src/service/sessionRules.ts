/**
 * The authorizer's session-rules provider: each session's overlay (its user's rules, its groups'
 * rules, templates substituted for it), answered from memory.
 *
 * - Users are loaded lazily, per effective (realm, authid) — the identity a session has after the
 *   user's overrides — never all at once: at login, when a session joins, or on a miss (then the
 *   authorizer waits, bounded by its deadline). Loads of one identity are shared.
 * - Only roles whose sessions can have rules of their own are looked at (`hasSessionRules`: user
 *   or group rules in the role, or templates); every other role's answer needs no user at all.
 * - An overlay is built once per (identity, role) and kept until the role's rules, the groups or the
 *   user change (identities of the compiled sets are compared; a user change drops the entry).
 * - Entries are bounded: beyond `maxEntries`, the oldest entries of identities without a live
 *   session are dropped; an identity's entry goes when its last session leaves.
 * - A change notification for one user (`invalidate`) makes the next decision for it wait for a
 *   fresh load, so no decision uses rules older than the notification.
 */
import type { GroupGraph } from "../authorize/groups.js";
import { type CompiledRules, compileRules } from "../authorize/matcher.js";
import type { PermissionIndex } from "../authorize/permissionIndex.js";
import type { TemplateOptions } from "../authorize/template.js";
import { type SessionUser, resolveUser, sessionOverlay } from "../authorize/userOverlay.js";
import type { Logger } from "../log/logger.js";
import { storedRule } from "../store/permissionRules.js";
import type { StoredRuleRow } from "../store/sessionRuleQueries.js";

export interface SessionRulesOptions {
  /** The stored users of one effective identity (store query). */
  load: (realm: string, authid: string) => Promise<SessionUser[]>;
  /** The permission index as loaded (never the fail-closed empty one). */
  index: () => PermissionIndex;
  groups: () => GroupGraph;
  options: TemplateOptions;
  /** Most identities kept (those with live sessions are kept beyond it). */
  maxEntries: number;
  log: Logger;
  now?: () => number;
  /** An overlay was built whose rules start or end at `at` (epoch ms). */
  onWindow?: (realm: string, authid: string, at: number) => void;
}

interface Memo {
  /**
   * The role's compiled set and the group graph it was built against: a new role set rebuilds it; a
   * new graph only when one of the session's groups changed (GroupGraph.unchangedSince).
   */
  base: CompiledRules;
  groups: GroupGraph;
  /** The session's groups (closure) when it was built. */
  closure: readonly number[];
  overlay: CompiledRules | null;
}

interface Entry {
  realm: string;
  authid: string;
  users: SessionUser[] | null;
  loading: Promise<void> | null;
  /** Bumped by every invalidation: a load started before it is not used. */
  gen: number;
  /** The overlay per role (nearly always one role: kept without a Map). */
  memo: (Memo & { role: string }) | null;
  more: Map<string, Memo> | null;
}

/** A map keyed by (realm, authid) without building a key string per lookup (the authorize path). */
class PairMap<V> {
  private readonly byRealm = new Map<string, Map<string, V>>();
  size = 0;

  get(realm: string, authid: string): V | undefined {
    return this.byRealm.get(realm)?.get(authid);
  }

  has(realm: string, authid: string): boolean {
    return this.byRealm.get(realm)?.has(authid) === true;
  }

  set(realm: string, authid: string, v: V): void {
    let m = this.byRealm.get(realm);
    if (!m) this.byRealm.set(realm, (m = new Map<string, V>()));
    if (!m.has(authid)) this.size++;
    m.set(authid, v);
  }

  delete(realm: string, authid: string): void {
    const m = this.byRealm.get(realm);
    if (m?.delete(authid)) {
      this.size--;
      if (m.size === 0) this.byRealm.delete(realm);
    }
  }

  deleteRealm(realm: string): void {
    const m = this.byRealm.get(realm);
    if (!m) return;
    this.size -= m.size;
    this.byRealm.delete(realm);
  }

  *entries(): Iterable<[string, string, V]> {
    for (const [realm, m] of this.byRealm) for (const [authid, v] of m) yield [realm, authid, v];
  }
}

/** Answers never cached by the router, no rule: for sessions of a role whose caching is about to be turned off. */
const EMPTY = compileRules([], 0, { cacheable: false });

export class SessionRules {
  private readonly entries = new PairMap<Entry>();
  private readonly live = new PairMap<number>();
  /** Realms where a user just got its first rule or group (with a sequence number): answers there are uncached until an index loaded after it says so. */
  private readonly pending = new Map<string, number>();
  private seq = 0;
  private readonly now: () => number;
  private warnedFull = false;
  /** Size at which the next eviction pass runs (above the bound when live identities fill it). */
  private evictAt: number;

  constructor(private readonly o: SessionRulesOptions) {
    this.now = o.now ?? Date.now;
    this.evictAt = o.maxEntries;
  }

  /** The provider for Authorizer's `sessionRules`. */
  readonly provider = (realm: string, role: string, authid: string): CompiledRules | null | Promise<CompiledRules | null> => {
    const index = this.o.index();
    const base = index.rules(realm, role);
    if (base === null) return null;
    if (!index.hasSessionRules(realm, role) && !this.pending.has(realm)) return null;
    let e = this.entries.get(realm, authid);
    if (e !== undefined && e.users !== null) return this.overlay(e, role, base);
    if (e === undefined) e = this.create(realm, authid);
    const entry = e;
    return this.ensureLoaded(entry).then(() => {
      // The index may have been swapped while loading: answer with the current one.
      const b = this.o.index().rules(realm, role);
      return b === null || entry.users === null ? null : this.overlay(entry, role, b);
    });
  };

  /** Whether sessions of this role look at session rules at all. */
  concerns(realm: string, role: string): boolean {
    const index = this.o.index();
    return index.hasSessionRules(realm, role) || (this.pending.has(realm) && index.hasRole(realm, role));
  }

  /** Loads an identity ahead of its first decision (login, join); never rejects. */
  warm(realm: string, authid: string): Promise<void> {
    const e = this.entries.get(realm, authid) ?? this.create(realm, authid);
    return this.ensureLoaded(e).catch((err: unknown) =>
      this.o.log.warn({ realm, authid, err: err instanceof Error ? err.message : String(err) }, "loading a user's rules failed"),
    );
  }

  /** The stored users of an identity (loading them if needed). */
  async users(realm: string, authid: string): Promise<SessionUser[]> {
    const e = this.entries.get(realm, authid) ?? this.create(realm, authid);
    await this.ensureLoaded(e);
    return e.users ?? [];
  }

  /** The cached users of an identity, if loaded (no I/O). */
  cached(realm: string, authid: string): SessionUser[] | null {
    return this.entries.get(realm, authid)?.users ?? null;
  }

  /** Every loaded identity (for group changes: whose groups changed). */
  *loaded(): Iterable<{ realm: string; authid: string; users: readonly SessionUser[] }> {
    for (const [, , e] of this.entries.entries()) if (e.users !== null) yield { realm: e.realm, authid: e.authid, users: e.users };
  }

  /** The user's rules, groups or extra changed: drop what is cached; the next decision loads afresh. */
  invalidate(realm: string, authid: string): void {
    const e = this.entries.get(realm, authid);
    if (!e) return;
    e.gen++;
    e.users = null;
    clearMemo(e);
  }

  /**
   * Applies one of a user's rules as a notification carries it (added, changed or removed) to the
   * cached users of the identity, without reading the store. False when nothing is cached to patch
   * (then `invalidate` and a load do it).
   */
  patchRule(realm: string, authid: string, userId: string, op: string, row: Partial<StoredRuleRow> & { id: string }): boolean {
    const e = this.entries.get(realm, authid);
    if (!e || e.users === null) return false;
    const i = e.users.findIndex((u) => u.id === userId);
    if (i < 0) return false;
    const user = e.users[i] as SessionUser;
    const rules = user.rules.filter((r) => String(r.id) !== row.id);
    if (op !== "DELETE") {
      if (typeof row.uri !== "string" || (row.match !== "exact" && row.match !== "prefix" && row.match !== "wildcard")) return false;
      rules.push(storedRule(row as StoredRuleRow, "user", user.authid));
      rules.sort((a, b) => a.id - b.id);
    }
    const users = [...e.users];
    users[i] = { ...user, rules };
    e.gen++;
    e.users = users;
    clearMemo(e);
    return true;
  }

  /** Everything may have changed (the change feed was interrupted). */
  invalidateAll(): void {
    for (const [, , e] of this.entries.entries()) {
      e.gen++;
      e.users = null;
      clearMemo(e);
    }
  }

  /** Until an index loaded from now on is in place, sessions of every role of `realm` consult their user (and are never cached). */
  markPending(realm: string): void {
    this.pending.set(realm, ++this.seq);
  }

  /** Call when an index load starts; give the token to indexLoaded() once that index is in place. */
  indexLoadStarting(): number {
    return this.seq;
  }

  /** An index whose load started at `token` is in place: it includes what was pending before. */
  indexLoaded(token: number): void {
    for (const [realm, n] of this.pending) if (n <= token) this.pending.delete(realm);
  }

  /** A session of this identity joined (counted, so its entry is kept). */
  joined(realm: string, authid: string): void {
    this.live.set(realm, authid, (this.live.get(realm, authid) ?? 0) + 1);
  }

  /** A session left; the identity's entry goes with its last session. */
  left(realm: string, authid: string): void {
    const n = (this.live.get(realm, authid) ?? 0) - 1;
    if (n > 0) {
      this.live.set(realm, authid, n);
      return;
    }
    this.live.delete(realm, authid);
    this.entries.delete(realm, authid);
  }

  /** The realm's session tracking starts over (rejoin): live counts of that realm are rebuilt from scratch. */
  resetLive(realm: string): void {
    this.live.deleteRealm(realm);
  }

  get size(): number {
    return this.entries.size;
  }

  private create(realm: string, authid: string): Entry {
    const e: Entry = { realm, authid, users: null, loading: null, gen: 0, memo: null, more: null };
    this.entries.set(realm, authid, e);
    if (this.entries.size > this.evictAt) this.evict();
    return e;
  }

  private ensureLoaded(e: Entry): Promise<void> {
    if (e.users !== null) return Promise.resolve();
    if (e.loading) return e.loading;
    const gen = e.gen;
    const loading = this.o.load(e.realm, e.authid).then(
      (users) => {
        e.loading = null;
        // Invalidated while loading: the rows may predate the change.
        if (e.gen !== gen) return this.ensureLoaded(e);
        e.users = users;
        clearMemo(e);
      },
      (err: unknown) => {
        e.loading = null;
        throw err;
      },
    );
    e.loading = loading;
    return loading;
  }

  private overlay(e: Entry, role: string, base: CompiledRules): CompiledRules | null {
    const groups = this.o.groups();
    const memo = e.memo !== null && e.memo.role === role ? e.memo : (e.more?.get(role) ?? null);
    if (memo !== null && memo.base === base) {
      if (memo.groups === groups) return memo.overlay;
      // Another group's rules changed: this session's overlay still holds.
      if (groups.unchangedSince(memo.groups, memo.closure)) {
        memo.groups = groups;
        return memo.overlay;
      }
    }
    const now = this.now();
    const resolution = resolveUser(e.users ?? [], role);
    const closure = resolution.kind === "user" ? groups.closure(resolution.user.groups) : [];
    let overlay = sessionOverlay(
      {
        realm: e.realm,
        role,
        authid: e.authid,
        resolution,
        groups,
        roleTemplates: base.templates,
        options: this.o.options,
      },
      now,
    );
    // While the role's flag is pending, an overlay (even an empty one) keeps the answer out of the router's cache.
    if (overlay === null && !this.o.index().hasSessionRules(e.realm, role)) overlay = EMPTY;
    if (e.memo === null || e.memo.role === role) e.memo = { role, base, groups, closure, overlay };
    else (e.more ??= new Map()).set(role, { base, groups, closure, overlay });
    if (overlay !== null && overlay.nextChange !== null) this.o.onWindow?.(e.realm, e.authid, overlay.nextChange);
    return overlay;
  }

  /** Drops the oldest entries without live sessions until a tenth below the bound. */
  private evict(): void {
    const max = this.o.maxEntries;
    const target = Math.floor(max * 0.9);
    const idle: Array<[string, string]> = [];
    let excess = this.entries.size - target;
    for (const [realm, authid, e] of this.entries.entries()) {
      if (excess <= 0) break;
      if (e.loading === null && !this.live.has(realm, authid)) {
        idle.push([realm, authid]);
        excess--;
      }
    }
    for (const [realm, authid] of idle) this.entries.delete(realm, authid);
    // Live identities beyond the bound stay; the next pass waits until a tenth more have come.
    this.evictAt = Math.max(max, this.entries.size + Math.ceil(max / 10));
    if (this.entries.size > max && !this.warnedFull) {
      this.warnedFull = true;
      this.o.log.warn(
        { entries: this.entries.size, max: this.o.maxEntries },
        "more identities with live sessions than authorize.sessionCacheMax: kept anyway",
      );
    }
  }
}

function clearMemo(e: Entry): void {
  e.memo = null;
  e.more = null;
}
