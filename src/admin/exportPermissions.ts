/**
 * Dumps realms, roles and rules as a Crossbar `realms` block (static permissions), and lists what
 * static permissions cannot express:
 * - rules of groups and users (Crossbar's permissions belong to roles);
 * - template rules (they exist per session) and rules with a time window (they would become
 *   permanent): left out;
 * - explicit denials: a role rule's denied actions are exported as not allowed, which is the same
 *   for role rules alone (the most specific rule decides and an action it does not allow is denied;
 *   there is no fall-through), but Crossbar has no deny that beats another source.
 */
import { stringify } from "yaml";
import { ACTIONS } from "../authorize/rules.js";
import { isTemplate } from "../authorize/template.js";
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

export interface ExportResult {
  realms: CrossbarRealm[];
  /** What static permissions cannot express, one line each (left out, or exported with a difference). */
  notExpressible: string[];
}

function describe(g: q.GrantRow): string {
  const allow = ACTIONS.filter((a) => g[`allow_${a}`]).join(",") || "none";
  const deny = ACTIONS.filter((a) => g[`deny_${a}`]).join(",");
  return `${g.realm}: ${g.owner_kind} ${g.owner}: ${g.match} "${g.uri}" allow ${allow}${deny ? ` deny ${deny}` : ""}`;
}

export async function exportRealms(ctx: AdminContext, realm: string | null): Promise<ExportResult> {
  const roles = await q.listRoles(ctx.pool, realm);
  const grants = await q.listAllGrants(ctx.pool, realm);
  const out = new Map<string, CrossbarRealm>();
  const notExpressible: string[] = [];
  for (const r of roles) {
    let cr = out.get(r.realm);
    if (!cr) out.set(r.realm, (cr = { name: r.realm, roles: [] }));
    cr.roles.push({ name: r.name, permissions: [] });
  }
  for (const g of grants) {
    if (g.owner_kind !== "role") {
      notExpressible.push(`${describe(g)}: left out (static permissions belong to roles; ${g.owner_kind} rules need wamp-authd)`);
      continue;
    }
    if (isTemplate(g.uri)) {
      notExpressible.push(`${describe(g)}: left out (a template: it exists per session)`);
      continue;
    }
    if (g.valid_from || g.valid_until) {
      notExpressible.push(
        `${describe(g)}: left out (a time window, ${g.valid_from?.toISOString() ?? ""}..${g.valid_until?.toISOString() ?? ""})`,
      );
      continue;
    }
    if (ACTIONS.some((a) => g[`deny_${a}`]))
      notExpressible.push(`${describe(g)}: exported with the denied actions not allowed (Crossbar has no explicit deny)`);
    const role = out.get(g.realm)?.roles.find((x) => x.name === g.owner);
    role?.permissions.push({
      uri: g.uri,
      match: g.match,
      allow: { call: g.allow_call, register: g.allow_register, publish: g.allow_publish, subscribe: g.allow_subscribe },
      disclose: { caller: g.disclose_caller, publisher: g.disclose_publisher },
      cache: g.cache,
    });
  }
  return { realms: [...out.values()], notExpressible };
}

export function formatExport(realms: CrossbarRealm[], format: "yaml" | "json"): string {
  const doc = { realms };
  return format === "yaml" ? stringify(doc) : JSON.stringify(doc, null, 2) + "\n";
}
