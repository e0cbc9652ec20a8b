/**
 * The service's own procedure URIs, which no rule can open up.
 *
 * - Router-only URIs (the authenticate URI, `<authenticate>.` for the per-method procedures, the
 *   authorize URI): every action is denied. A session allowed to register them could join the
 *   `roundrobin` registration and answer the router's auth questions, or evict the service with
 *   `force_reregister`.
 * - User-facing URIs (procedures the service registers for clients, e.g. the prefix
 *   `authd.tokens.`): `call` goes to the rules, every other action is denied.
 * - A prefix/wildcard request whose pattern can match any reserved URI is denied.
 */
import { prefixMeetsWildcard, prefixesMeet, wildcardMatches } from "./uriSets.js";

export interface ReservedUri {
  uri: string;
  match: "exact" | "prefix";
}

export interface ReservedConfig {
  routerOnly: readonly ReservedUri[];
  userFacing: readonly ReservedUri[];
}

export type ReservedKind = "router" | "user";

class UriSet {
  private readonly exact: Set<string>;
  private readonly prefixes: string[];
  readonly all: readonly ReservedUri[];

  constructor(uris: readonly ReservedUri[]) {
    this.all = uris;
    this.exact = new Set(uris.filter((u) => u.match === "exact").map((u) => u.uri));
    this.prefixes = uris.filter((u) => u.match === "prefix").map((u) => u.uri);
  }

  has(uri: string): boolean {
    if (this.exact.has(uri)) return true;
    for (let i = 0; i < this.prefixes.length; i++) if (uri.startsWith(this.prefixes[i] as string)) return true;
    return false;
  }

  /** Whether some URI of the pattern is in this set. */
  meets(match: "prefix" | "wildcard", pattern: string, parts: readonly string[]): boolean {
    for (const r of this.all) {
      if (match === "prefix") {
        if (r.match === "exact" ? r.uri.startsWith(pattern) : prefixesMeet(r.uri, pattern)) return true;
      } else if (r.match === "exact" ? wildcardMatches(parts, r.uri) : prefixMeetsWildcard(r.uri, parts)) {
        return true;
      }
    }
    return false;
  }
}

export class ReservedUris {
  private readonly router: UriSet;
  private readonly user: UriSet;
  /** What every reserved URI starts with (e.g. "authd."): most requests are ruled out by one check. */
  private readonly lead: string | null;

  constructor(config: ReservedConfig) {
    this.router = new UriSet(config.routerOnly);
    this.user = new UriSet(config.userFacing);
    const all = [...config.routerOnly, ...config.userFacing].map((u) => u.uri);
    this.lead = all.length === 0 ? null : all.reduce(commonPrefix);
  }

  static none(): ReservedUris {
    return new ReservedUris({ routerOnly: [], userFacing: [] });
  }

  /** From the service's configuration (`procedures.*`). */
  static forProcedures(p: { authenticate: string; authorize: string; userPrefix: string }): ReservedUris {
    return new ReservedUris({
      routerOnly: [
        { uri: p.authenticate, match: "exact" },
        // Per-method procedures (<authenticate>.<method>), whether registered or not.
        { uri: `${p.authenticate}.`, match: "prefix" },
        { uri: p.authorize, match: "exact" },
      ],
      userFacing: [{ uri: p.userPrefix, match: "prefix" }],
    });
  }

  get config(): ReservedConfig {
    return { routerOnly: this.router.all, userFacing: this.user.all };
  }

  /** For a concrete URI: router-only, user-facing, or not reserved. */
  kind(uri: string): ReservedKind | null {
    if (this.lead === null || !uri.startsWith(this.lead)) return null;
    if (this.router.has(uri)) return "router";
    if (this.user.has(uri)) return "user";
    return null;
  }

  /** Whether a pattern request can match a reserved URI (`parts`: the pattern split on "."). */
  meetsPattern(match: "prefix" | "wildcard", pattern: string, parts: readonly string[]): boolean {
    return this.router.meets(match, pattern, parts) || this.user.meets(match, pattern, parts);
  }
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return a.slice(0, i);
}
