/** Dumps realms, roles and rules as a Crossbar `realms` block (static permissions). */
import { stringify } from "yaml";
import * as q from "../store/adminQueries.js";
import type { AdminContext } from "./context.js";

export interface CrossbarRealm {
  name: string;
  roles: Array<{
    name: string;
    permissions: Array<{
      uri: string;
      match: string;
      allow: { call: boolean; register: boolean; publish: boolean; subscribe: boolean };
      disclose: { caller: boolean; publisher: boolean };
      cache: boolean;
    }>;
  }>;
}

export async function exportRealms(ctx: AdminContext, realm: string | null): Promise<CrossbarRealm[]> {
  const roles = await q.listRoles(ctx.pool, realm);
  const grants = await q.listGrants(ctx.pool, realm, null);
  const out = new Map<string, CrossbarRealm>();
  for (const r of roles) {
    let cr = out.get(r.realm);
    if (!cr) out.set(r.realm, (cr = { name: r.realm, roles: [] }));
    cr.roles.push({
      name: r.name,
      permissions: grants
        .filter((g) => g.realm === r.realm && g.role === r.name)
        .map((g) => ({
          uri: g.uri,
          match: g.match,
          allow: { call: g.allow_call, register: g.allow_register, publish: g.allow_publish, subscribe: g.allow_subscribe },
          disclose: { caller: g.disclose_caller, publisher: g.disclose_publisher },
          cache: g.cache,
        })),
    });
  }
  return [...out.values()];
}

export function formatExport(realms: CrossbarRealm[], format: "yaml" | "json"): string {
  const doc = { realms };
  return format === "yaml" ? stringify(doc) : JSON.stringify(doc, null, 2) + "\n";
}
