/**
 * The JWT issuers every realm trusts, cached from the store with their key sources. A change to
 * authd.token_issuers (NOTIFY) marks the cache stale; the next login reloads it. Key sources of
 * issuers whose row did not change are kept, so a reload never throws away a fetched JWKS.
 */
import type { Logger } from "../../log/logger.js";
import { listIssuers, type IssuerRow } from "../../store/tokenQueries.js";
import type { Queryable } from "../../store/queries.js";
import type { ClaimRules } from "./claims.js";
import { JwksSource, SecretSource, type KeySource, type KeySourceOptions, type KeySourceStatus } from "./jwks.js";

export interface Issuer {
  row: IssuerRow;
  /** realm/name: the label in logs, metrics and /readyz. */
  label: string;
  rules: ClaimRules;
  keys: KeySource;
}

export interface IssuerRegistryOptions {
  db: Queryable;
  log: Logger;
  keys: Omit<KeySourceOptions, "onLoad">;
  /** After every key load of an issuer (metrics). */
  onKeyLoad?: (label: string, ok: boolean) => void;
  /** A cache older than this is reloaded even without a notification (a missed NOTIFY heals). */
  maxAgeMs?: number;
}

export class IssuerRegistry {
  private byRealm = new Map<string, Map<string, Issuer>>();
  private byId = new Map<number, Issuer>();
  private loadedAt = -Infinity;
  private stale = true;
  private loading: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly o: IssuerRegistryOptions) {}

  /** The realm's issuer for this `iss`, or null. */
  async find(realm: string, iss: string): Promise<Issuer | null> {
    if (this.stale || Date.now() - this.loadedAt > (this.o.maxAgeMs ?? 60_000)) await this.reload();
    return this.byRealm.get(realm)?.get(iss) ?? null;
  }

  invalidate(): void {
    this.stale = true;
  }

  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = null));
    return this.loading;
  }

  private async load(): Promise<void> {
    this.stale = false;
    let rows: IssuerRow[];
    try {
      rows = await listIssuers(this.o.db);
    } catch (err) {
      this.stale = true;
      throw err;
    }
    const byId = new Map<number, Issuer>();
    const byRealm = new Map<string, Map<string, Issuer>>();
    for (const row of rows) {
      const old = this.byId.get(row.id);
      const issuer = old && old.row.updated_at.getTime() === row.updated_at.getTime() ? old : this.create(row);
      byId.set(row.id, issuer);
      let realm = byRealm.get(row.realm);
      if (!realm) byRealm.set(row.realm, (realm = new Map<string, Issuer>()));
      realm.set(row.iss, issuer);
    }
    for (const [id, issuer] of this.byId) if (byId.get(id) !== issuer) issuer.keys.stop();
    this.byId = byId;
    this.byRealm = byRealm;
    this.loadedAt = Date.now();
  }

  private create(row: IssuerRow): Issuer {
    const label = `${row.realm}/${row.name}`;
    const o: KeySourceOptions = {
      ...this.o.keys,
      onLoad: (ok) => {
        this.o.onKeyLoad?.(label, ok);
        if (!ok)
          this.o.log.warn({ issuer: label, error: keys.status().lastError }, "loading an issuer's keys failed; keeping the last good keys");
      },
    };
    const keys: KeySource = row.secret_file
      ? new SecretSource(row.secret_file, o)
      : new JwksSource(row.jwks_url ? { url: row.jwks_url } : { file: row.jwks_file ?? "" }, o);
    if (!this.stopped) keys.start();
    return {
      row,
      label,
      keys,
      rules: {
        authidClaim: row.authid_claim,
        roleClaim: row.role_claim,
        roleMap: Array.isArray(row.role_map) ? row.role_map : [],
        defaultRole: row.default_role,
        realmClaim: row.realm_claim,
        extraClaims: row.extra_claims,
      },
    };
  }

  /** Reloads every issuer's keys now (what the background refresh does; never rejects). */
  async refresh(): Promise<void> {
    await Promise.all([...this.byId.values()].map((i) => i.keys.refresh()));
  }

  /** Every issuer's key source state, by realm/name (for /readyz). */
  status(): Record<string, KeySourceStatus> {
    return Object.fromEntries([...this.byId.values()].map((i) => [i.label, i.keys.status()]));
  }

  stop(): void {
    this.stopped = true;
    for (const i of this.byId.values()) i.keys.stop();
  }
}
