import type { Queryable } from "../store/queries.js";
import { commonRoles } from "../store/queries.js";

export interface DecoyRolesOptions {
  db: Queryable;
  /** The realm's roles in the store (none: the realm is unknown, no decoy). */
  realmRoles: (realm: string) => readonly string[];
  /** May an answer carry this role in this realm (exists, not reserved)? */
  usable: (realm: string, role: string) => boolean;
  /** How long a realm's choice is kept before it is refreshed in the background. */
  ttlMs?: number;
}

/**
 * The role a decoy answer carries. It must exist in the router's realm (else Crossbar aborts with
 * `no_such_role`, which would tell a decoy from a user) and it is shown to a WAMP-CRA client in the
 * CHALLENGE, so it is the role most of the realm's enabled users have: the role a real user most
 * likely has, and one the router surely knows, since those users log in with it. Ties go to the
 * first name; a realm without users takes its first role by name. Counted per realm by one query,
 * kept for `ttlMs` (10 min) and then refreshed in the background: never a query per login. Only
 * realms of the store are cached, so client-chosen realm names cannot grow it.
 */
export class DecoyRoles {
  private readonly cache = new Map<string, { candidates: string[]; at: number }>();
  private readonly loading = new Map<string, Promise<string[]>>();
  private readonly ttlMs: number;

  constructor(private readonly o: DecoyRolesOptions) {
    this.ttlMs = o.ttlMs ?? 600_000;
  }

  /** null: no decoy possible (realm unknown to the store, or without a usable role). */
  async role(realm: string): Promise<string | null> {
    const roles = this.o.realmRoles(realm);
    if (roles.length === 0) return null;
    const cached = this.cache.get(realm);
    let candidates: string[];
    if (!cached) candidates = await this.load(realm);
    else {
      candidates = cached.candidates;
      if (Date.now() - cached.at > this.ttlMs) this.load(realm).catch(() => undefined); // stale: keep answering meanwhile
    }
    const usable = (r: string) => this.o.usable(realm, r);
    return candidates.find(usable) ?? [...roles].sort().find(usable) ?? null;
  }

  private load(realm: string): Promise<string[]> {
    let p = this.loading.get(realm);
    if (!p) {
      p = commonRoles(this.o.db, realm)
        .then((candidates) => {
          this.cache.set(realm, { candidates, at: Date.now() });
          return candidates;
        })
        .finally(() => this.loading.delete(realm));
      this.loading.set(realm, p);
    }
    return p;
  }
}
