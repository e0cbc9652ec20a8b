import * as q from "../store/adminQueries.js";
import { listRealms, type RealmRow } from "../store/queries.js";
import { AdminError, change, type AdminContext } from "./context.js";
import { authidText, cidrList, realmName, roleName } from "./parse.js";

export async function addRealm(ctx: AdminContext, name: string): Promise<boolean> {
  realmName(name);
  return change(ctx, { action: "realm.add", realm: name }, async (db) => {
    if (await q.realmExists(db, name)) throw new AdminError(`realm "${name}" already exists`);
    await q.addRealm(db, name);
    return true;
  });
}

export function realms(ctx: AdminContext): Promise<RealmRow[]> {
  return listRealms(ctx.pool);
}

export async function removeRealm(ctx: AdminContext, name: string): Promise<void> {
  await change(ctx, { action: "realm.remove", realm: name }, async (db) => {
    if (!(await q.removeRealm(db, name))) throw new AdminError(`no realm named "${name}"`);
  });
}

export interface AnonymousChange {
  allowed?: boolean;
  role?: string | null;
  cidrs?: string[];
  authid?: string | null;
  extra?: Record<string, unknown>;
}

/** Changes only the given parts of the realm's anonymous policy. */
export async function setAnonymous(ctx: AdminContext, realm: string, c: AnonymousChange): Promise<q.AnonymousPolicy> {
  if (c.role) roleName(c.role);
  if (c.authid) authidText(c.authid);
  if (c.cidrs) cidrList(c.cidrs);
  return change(ctx, { action: "realm.anonymous", realm, detail: { ...c } }, async (db) => {
    const cur = (await listRealms(db)).find((r) => r.name === realm);
    if (!cur) throw new AdminError(`no realm named "${realm}"`);
    const p: q.AnonymousPolicy = {
      allowed: c.allowed ?? cur.anonymous_allowed,
      role: c.role !== undefined ? c.role : cur.anonymous_role,
      cidrs: c.cidrs ?? cur.anonymous_cidrs,
      authid: c.authid !== undefined ? c.authid : cur.anonymous_authid,
      extra: c.extra ?? cur.anonymous_extra,
    };
    if (p.allowed && !p.role) throw new AdminError("anonymous access needs a role (--role)");
    if (p.role && !(await q.roleExists(db, realm, p.role))) throw new AdminError(`no role "${p.role}" in realm "${realm}"`);
    await q.setAnonymousPolicy(db, realm, p);
    return p;
  });
}
