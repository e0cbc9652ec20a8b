import { normalizeFingerprint } from "../auth/methods/tls.js";
import * as q from "../store/adminQueries.js";
import type { Method } from "../store/queries.js";
import { AdminError, change, type AdminContext } from "./context.js";
import { pubkey } from "./parse.js";

async function userOf(db: q.AdminDb, realm: string, authid: string): Promise<string> {
  const u = await q.findUser(db, realm, authid);
  if (!u) throw new AdminError(`no user "${authid}" in realm "${realm}"`);
  return u.id;
}

export interface KeyOptions {
  label?: string | null;
  expiresAt?: Date | null;
}

export async function addKey(ctx: AdminContext, realm: string, authid: string, key: string, o: KeyOptions = {}): Promise<string> {
  const lookup = pubkey(key);
  return change(
    ctx,
    { action: "key.add", realm, authid, detail: { pubkey: lookup, label: o.label ?? null, expires_at: o.expiresAt ?? null } },
    async (db) => q.addKeyedCredential(db, await userOf(db, realm, authid), "cryptosign", lookup, o.label ?? null, o.expiresAt ?? null),
  );
}

export async function listKeyed(ctx: AdminContext, realm: string, authid: string, method: Method): Promise<q.CredentialInfo[]> {
  return q.listCredentials(ctx.pool, await userOf(ctx.pool, realm, authid), method);
}

export async function revokeKey(ctx: AdminContext, realm: string, authid: string, key: string): Promise<void> {
  const lookup = pubkey(key);
  await change(ctx, { action: "key.revoke", realm, authid, detail: { pubkey: lookup } }, async (db) => {
    if (!(await q.revokeKeyedCredential(db, await userOf(db, realm, authid), "cryptosign", lookup))) {
      throw new AdminError(`user "${authid}" has no live key ${lookup}`);
    }
  });
}

export function fingerprint(text: string): string {
  const fp = normalizeFingerprint(text);
  if (!fp) throw new AdminError("a certificate fingerprint is a SHA-256 digest: 64 hex characters, optionally separated by colons");
  return fp;
}

export interface TlsPins extends KeyOptions {
  issuerCn?: string | null;
  subjectCn?: string | null;
}

export async function bindCertificate(ctx: AdminContext, realm: string, authid: string, fp: string, o: TlsPins = {}): Promise<string> {
  const lookup = fingerprint(fp);
  const data: Record<string, unknown> = {};
  if (o.issuerCn) data.issuer_cn = o.issuerCn;
  if (o.subjectCn) data.subject_cn = o.subjectCn;
  return change(ctx, { action: "tls.bind", realm, authid, detail: { fingerprint: lookup, ...data } }, async (db) =>
    q.addKeyedCredential(db, await userOf(db, realm, authid), "tls", lookup, o.label ?? null, o.expiresAt ?? null, data),
  );
}

export async function unbindCertificate(ctx: AdminContext, realm: string, authid: string, fp: string): Promise<void> {
  const lookup = fingerprint(fp);
  await change(ctx, { action: "tls.unbind", realm, authid, detail: { fingerprint: lookup } }, async (db) => {
    if (!(await q.removeKeyedCredential(db, await userOf(db, realm, authid), "tls", lookup))) {
      throw new AdminError(`user "${authid}" has no certificate ${lookup}`);
    }
  });
}
