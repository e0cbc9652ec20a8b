import * as q from "../store/adminQueries.js";
import { AdminError, change, type AdminContext } from "./context.js";
import { authidText, realmName, roleName } from "./parse.js";
import { deriveSecrets, passwdWritesCra } from "./secrets.js";

export type AddUser = q.NewUser;

export async function addUser(ctx: AdminContext, u: AddUser): Promise<string> {
  realmName(u.realm);
  authidText(u.authid);
  roleName(u.role);
  if (u.realmOverride) realmName(u.realmOverride);
  return change(
    ctx,
    { action: "user.add", realm: u.realm, authid: u.authid, detail: { role: u.role, disabled: u.disabled ?? false } },
    async (db) => {
      await requireRole(db, u.realm, u.role);
      if (await q.findUser(db, u.realm, u.authid)) throw new AdminError(`user "${u.authid}" already exists in realm "${u.realm}"`);
      return q.addUser(db, u);
    },
  );
}

async function requireRole(db: q.AdminDb, realm: string, role: string): Promise<void> {
  if (!(await q.realmExists(db, realm))) throw new AdminError(`no realm named "${realm}"`);
  if (!(await q.roleExists(db, realm, role)))
    throw new AdminError(`no role "${role}" in realm "${realm}" (add it with "wamp-authd roles add")`);
}

export async function listUsers(ctx: AdminContext, realm: string, role: string | null = null): Promise<q.UserInfo[]> {
  if (!(await q.realmExists(ctx.pool, realm))) throw new AdminError(`no realm named "${realm}"`);
  return q.listUsers(ctx.pool, realm, role);
}

export interface UserDetail extends q.UserInfo {
  credentials: q.CredentialInfo[];
  /** The groups the user is directly in. */
  groups: string[];
}

export async function showUser(ctx: AdminContext, realm: string, authid: string): Promise<UserDetail> {
  const u = await q.findUser(ctx.pool, realm, authid);
  if (!u) throw new AdminError(`no user "${authid}" in realm "${realm}"`);
  return { ...u, credentials: await q.listCredentials(ctx.pool, u.id, null), groups: await q.userGroups(ctx.pool, realm, authid) };
}

async function existing(db: q.AdminDb, realm: string, authid: string): Promise<string> {
  const u = await q.findUser(db, realm, authid);
  if (!u) throw new AdminError(`no user "${authid}" in realm "${realm}"`);
  return u.id;
}

export async function setRole(ctx: AdminContext, realm: string, authid: string, role: string): Promise<void> {
  roleName(role);
  await change(ctx, { action: "user.set-role", realm, authid, detail: { role } }, async (db) => {
    await requireRole(db, realm, role);
    await existing(db, realm, authid);
    await q.setUserRole(db, realm, authid, role);
  });
}

export async function setExtra(ctx: AdminContext, realm: string, authid: string, extra: Record<string, unknown>): Promise<void> {
  // The extra is shown to the router and the client; keep it out of the audit detail (it may be large or personal).
  await change(ctx, { action: "user.set-extra", realm, authid, detail: { keys: Object.keys(extra) } }, async (db) => {
    await existing(db, realm, authid);
    await q.setUserExtra(db, realm, authid, extra);
  });
}

export async function setDisabled(ctx: AdminContext, realm: string, authid: string, disabled: boolean): Promise<void> {
  await change(ctx, { action: disabled ? "user.disable" : "user.enable", realm, authid }, async (db) => {
    await existing(db, realm, authid);
    await q.setUserDisabled(db, realm, authid, disabled);
  });
}

export async function removeUser(ctx: AdminContext, realm: string, authid: string): Promise<void> {
  await change(ctx, { action: "user.remove", realm, authid }, async (db) => {
    if (!(await q.removeUser(db, realm, authid))) throw new AdminError(`no user "${authid}" in realm "${realm}"`);
  });
}

/**
 * Sets the password, all or nothing: ticket hash, SCRAM credential and, with cra.onPasswd, the CRA
 * secret. Without it an existing CRA secret is removed: it holds a password in recoverable form,
 * and the old one must not keep working after a password change.
 */
export async function setPassword(
  ctx: AdminContext,
  realm: string,
  authid: string,
  password: string,
): Promise<{ methods: string[]; removed: string[] }> {
  const s = await deriveSecrets(ctx.config, password, { cra: passwdWritesCra(ctx.config) });
  const methods = ["ticket", "scram", ...(s.wampcra ? ["wampcra"] : [])];
  const removed: string[] = [];
  await change(ctx, { action: "user.passwd", realm, authid, detail: { methods, removed } }, async (db) => {
    const id = await existing(db, realm, authid);
    await q.upsertSecretCredential(db, id, "ticket", s.ticket);
    await q.upsertSecretCredential(db, id, "scram", { ...s.scram });
    if (s.wampcra) await q.upsertSecretCredential(db, id, "wampcra", s.wampcra);
    else if (await q.removeSecretCredential(db, id, "wampcra")) removed.push("wampcra");
  });
  return { methods, removed };
}
