/**
 * Groups of a realm: create, remove, list, and their members (users and groups inside groups).
 * The store refuses a group inside itself, directly or through other groups (a trigger, so plain
 * SQL too), and members from another realm.
 */
import * as q from "../store/adminQueries.js";
import { AdminError, change, type AdminContext } from "./context.js";
import { authidText, groupName, realmName } from "./parse.js";

export type Member = { kind: "user"; authid: string } | { kind: "group"; name: string };

function describe(m: Member): string {
  return m.kind === "user" ? `user "${m.authid}"` : `group "${m.name}"`;
}

export async function addGroup(ctx: AdminContext, realm: string, group: string): Promise<boolean> {
  realmName(realm);
  groupName(group);
  return change(ctx, { action: "group.add", realm, detail: { group } }, async (db) => {
    if (!(await q.realmExists(db, realm))) throw new AdminError(`no realm named "${realm}"`);
    return q.addGroup(db, realm, group);
  });
}

export async function removeGroup(ctx: AdminContext, realm: string, group: string): Promise<void> {
  await change(ctx, { action: "group.remove", realm, detail: { group } }, async (db) => {
    if (!(await q.removeGroup(db, realm, group))) throw new AdminError(`no group "${group}" in realm "${realm}"`);
  });
}

export async function listGroups(ctx: AdminContext, realm: string | null): Promise<q.GroupInfo[]> {
  if (realm !== null && !(await q.realmExists(ctx.pool, realm))) throw new AdminError(`no realm named "${realm}"`);
  return q.listGroups(ctx.pool, realm);
}

export async function members(ctx: AdminContext, realm: string, group: string): Promise<q.GroupMembers> {
  const m = await q.groupMembers(ctx.pool, realm, group);
  if (!m) throw new AdminError(`no group "${group}" in realm "${realm}"`);
  return m;
}

async function mustExist(db: q.AdminDb, realm: string, group: string, m: Member): Promise<void> {
  if (!(await q.ownerExists(db, realm, { kind: "group", name: group }))) throw new AdminError(`no group "${group}" in realm "${realm}"`);
  const exists = await q.ownerExists(db, realm, m.kind === "user" ? { kind: "user", authid: m.authid } : { kind: "group", name: m.name });
  if (!exists) throw new AdminError(`no ${describe(m)} in realm "${realm}"`);
}

/** Adds a member; false when it already was one. A group that would end up inside itself is refused. */
export async function addMember(ctx: AdminContext, realm: string, group: string, m: Member): Promise<boolean> {
  if (m.kind === "user") authidText(m.authid);
  else groupName(m.name);
  const detail = { group, member: m.kind, [m.kind === "user" ? "authid" : "subgroup"]: m.kind === "user" ? m.authid : m.name };
  return change(ctx, { action: "group.member.add", realm, ...(m.kind === "user" ? { authid: m.authid } : {}), detail }, async (db) => {
    await mustExist(db, realm, group, m);
    return m.kind === "user" ? q.addGroupUser(db, realm, group, m.authid) : q.addSubgroup(db, realm, group, m.name);
  });
}

export async function removeMember(ctx: AdminContext, realm: string, group: string, m: Member): Promise<void> {
  const detail = { group, member: m.kind, [m.kind === "user" ? "authid" : "subgroup"]: m.kind === "user" ? m.authid : m.name };
  await change(ctx, { action: "group.member.remove", realm, ...(m.kind === "user" ? { authid: m.authid } : {}), detail }, async (db) => {
    await mustExist(db, realm, group, m);
    const removed =
      m.kind === "user" ? await q.removeGroupUser(db, realm, group, m.authid) : await q.removeSubgroup(db, realm, group, m.name);
    if (!removed) throw new AdminError(`${describe(m)} is not a member of group "${group}"`);
  });
}
