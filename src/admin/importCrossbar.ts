/**
 * Imports a Crossbar node configuration's static realms, roles, permissions and principals.
 *
 * planImport() is pure: it reads the parsed config and returns what would be written plus what
 * cannot be imported. applyImport() writes the plan in one transaction (with one audit row).
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { ACTIONS, type Action, type MatchKind } from "../authorize/rules.js";
import { parseScramCredential } from "../auth/scramCredential.js";
import { loadCraCipher } from "../auth/craCipher.js";
import { buildCraCredential } from "../auth/craCredential.js";
import { PasswordHasher } from "../auth/passwords.js";
import * as q from "../store/adminQueries.js";
import { AdminError, change, type AdminContext } from "./context.js";
import { ruleUri } from "./parse.js";
import { craEnabled } from "./secrets.js";

export interface PlannedRule {
  uri: string;
  match: MatchKind;
  allow: Action[];
  discloseCaller: boolean;
  disclosePublisher: boolean;
  cache: boolean;
}

export interface PlannedRole {
  name: string;
  rules: PlannedRule[];
}

export interface PlannedRealm {
  name: string;
  roles: PlannedRole[];
  /** From a static `anonymous` method whose role exists in this realm. */
  anonymousRole: string | null;
}

export type PlannedCredential =
  | { method: "ticket"; ticket: string }
  | { method: "wampcra"; secret: string; salt?: string; iterations?: number; keylen?: number }
  | { method: "cryptosign"; pubkeys: string[] }
  | { method: "scram"; data: Record<string, unknown> };

export interface PlannedUser {
  realm: string;
  authid: string;
  role: string;
  extra: Record<string, unknown>;
  credentials: PlannedCredential[];
}

export interface Skipped {
  /** Where in the config, e.g. workers[0].transports[1].auth.ticket */
  where: string;
  why: string;
}

export interface ImportPlan {
  realms: PlannedRealm[];
  users: PlannedUser[];
  skipped: Skipped[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const ENV_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const PUBKEY = /^[0-9a-fA-F]{64}$/;

export function readCrossbarConfig(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new AdminError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return [".yaml", ".yml"].includes(extname(file).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new AdminError(`${file} is not valid ${extname(file) === ".json" ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`);
  }
}

function rulesOf(perms: unknown, where: string, skipped: Skipped[]): PlannedRule[] {
  if (!Array.isArray(perms)) {
    skipped.push({ where, why: "permissions is not a list" });
    return [];
  }
  const out: PlannedRule[] = [];
  perms.forEach((p, i) => {
    const at = `${where}[${i}]`;
    if (!isObj(p) || typeof p.uri !== "string") return void skipped.push({ where: at, why: "permission without a uri" });
    let r: { uri: string; match: MatchKind };
    try {
      r = ruleUri(p.uri, p.match === undefined ? undefined : String(p.match));
    } catch (err) {
      return void skipped.push({ where: at, why: (err as Error).message });
    }
    const allow = isObj(p.allow) ? p.allow : {};
    const disclose = isObj(p.disclose) ? p.disclose : {};
    if (p.validate !== undefined)
      skipped.push({ where: `${at}.validate`, why: "payload validation is not supported; the rule is imported without it" });
    for (const k of Object.keys(p)) {
      if (!["uri", "match", "allow", "disclose", "cache", "validate"].includes(k))
        skipped.push({ where: `${at}.${k}`, why: "unknown permission key ignored" });
    }
    out.push({
      ...r,
      allow: ACTIONS.filter((a) => allow[a] === true),
      discloseCaller: disclose.caller === true,
      disclosePublisher: disclose.publisher === true,
      cache: p.cache === true,
    });
  });
  return out;
}

/** Every `auth` block under a transport (rawsocket, websocket, web paths, universal transports). */
function authBlocks(node: unknown, where: string, out: Array<{ where: string; auth: Obj }>): void {
  if (Array.isArray(node)) return node.forEach((n, i) => authBlocks(n, `${where}[${i}]`, out));
  if (!isObj(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if (k === "auth" && isObj(v)) out.push({ where: `${where}.auth`, auth: v });
    else authBlocks(v, `${where}.${k}`, out);
  }
}

function envValue(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const m = ENV_REF.exec(v);
  if (!m) return v;
  return process.env[m[1]!] ?? null;
}

export function planImport(config: unknown): ImportPlan {
  if (!isObj(config)) throw new AdminError("not a Crossbar configuration (expected an object)");
  const skipped: Skipped[] = [];
  const realms = new Map<string, PlannedRealm>();
  const users = new Map<string, PlannedUser>();
  const workers = Array.isArray(config.workers) ? config.workers : [];
  if (workers.length === 0) skipped.push({ where: "workers", why: "no workers: nothing to import" });

  const auths: Array<{ where: string; auth: Obj }> = [];
  workers.forEach((w, wi) => {
    const at = `workers[${wi}]`;
    if (!isObj(w) || w.type !== "router")
      return void (isObj(w) && skipped.push({ where: at, why: `worker of type "${String(w.type)}" is not a router` }));
    (Array.isArray(w.realms) ? w.realms : []).forEach((r, ri) => {
      const rat = `${at}.realms[${ri}]`;
      if (!isObj(r) || typeof r.name !== "string") return void skipped.push({ where: rat, why: "realm without a name" });
      if (!/^([0-9a-z_]+\.)*[0-9a-z_]+$/.test(r.name))
        return void skipped.push({ where: rat, why: `realm name "${r.name}" is not valid in the store` });
      const realm = realms.get(r.name) ?? { name: r.name, roles: [], anonymousRole: null };
      realms.set(r.name, realm);
      (Array.isArray(r.roles) ? r.roles : []).forEach((ro, oi) => {
        const oat = `${rat}.roles[${oi}]`;
        if (!isObj(ro) || typeof ro.name !== "string") return void skipped.push({ where: oat, why: "role without a name" });
        if (ro.name === "trusted" || !/^[0-9a-z_.-]+$/.test(ro.name))
          return void skipped.push({ where: oat, why: `role name "${ro.name}" cannot be stored` });
        if (ro.authorizer !== undefined)
          return void skipped.push({ where: oat, why: `role "${ro.name}" uses a dynamic authorizer (${String(ro.authorizer)})` });
        if (ro["default-permissions"] !== undefined)
          skipped.push({ where: `${oat}.default-permissions`, why: "default permissions are not supported (deny by default)" });
        realm.roles.push({
          name: ro.name,
          rules: ro.permissions === undefined ? [] : rulesOf(ro.permissions, `${oat}.permissions`, skipped),
        });
      });
    });
    authBlocks(w.transports, `${at}.transports`, auths);
  });

  const realmsWithRole = (role: string) => [...realms.values()].filter((r) => r.roles.some((x) => x.name === role)).map((r) => r.name);
  const addUser = (where: string, authid: string, p: Obj, cred: PlannedCredential) => {
    if (typeof p.role !== "string") return void skipped.push({ where, why: `principal "${authid}" has no role` });
    const role = p.role;
    // A principal without a realm logs in to whichever realm the client asks for: import it into every realm having its role.
    const targets = typeof p.realm === "string" ? [p.realm] : realmsWithRole(role);
    if (targets.length === 0)
      return void skipped.push({ where, why: `no realm in the config has role "${role}" for principal "${authid}"` });
    for (const realm of targets) {
      if (!realms.get(realm)?.roles.some((x) => x.name === role)) {
        skipped.push({ where, why: `principal "${authid}": realm "${realm}" has no role "${role}"` });
        continue;
      }
      const key = JSON.stringify([realm, authid]);
      const u = users.get(key) ?? { realm, authid, role, extra: isObj(p.extra) ? p.extra : {}, credentials: [] };
      if (u.role !== role) {
        skipped.push({ where, why: `principal "${authid}" in realm "${realm}" has role "${role}" here but "${u.role}" elsewhere` });
        continue;
      }
      if (u.credentials.some((c) => c.method === cred.method && c.method !== "cryptosign")) {
        skipped.push({ where, why: `principal "${authid}" in realm "${realm}" has a second ${cred.method} secret` });
        continue;
      }
      u.credentials.push(cred);
      users.set(key, u);
    }
  };

  for (const { where, auth } of auths) {
    for (const [method, m] of Object.entries(auth)) {
      const at = `${where}.${method}`;
      if (!isObj(m)) continue;
      if (!["anonymous", "ticket", "wampcra", "cryptosign", "scram"].includes(method)) {
        skipped.push({
          where: at,
          why: `${method} authentication cannot be imported (only ticket, wampcra, cryptosign, scram principals and anonymous)`,
        });
        continue;
      }
      if (m.type !== "static") {
        skipped.push({ where: at, why: `${method} is ${String(m.type)}, not static: only static principals are imported` });
        continue;
      }
      const principals = isObj(m.principals) ? m.principals : method === "wampcra" && isObj(m.users) ? m.users : null;
      switch (method) {
        case "anonymous": {
          if (typeof m.role !== "string") {
            skipped.push({ where: at, why: "static anonymous without a role" });
            break;
          }
          const targets = realmsWithRole(m.role);
          if (targets.length === 0) skipped.push({ where: at, why: `no realm has the anonymous role "${m.role}"` });
          for (const r of targets) realms.get(r)!.anonymousRole = m.role;
          break;
        }
        case "ticket":
          for (const [authid, p] of Object.entries(principals ?? {})) {
            const ticket = isObj(p) ? envValue(p.ticket) : null;
            if (!isObj(p) || !ticket)
              skipped.push({ where: `${at}.principals.${authid}`, why: "ticket missing or an unset environment variable" });
            else addUser(`${at}.principals.${authid}`, authid, p, { method: "ticket", ticket });
          }
          break;
        case "wampcra":
          for (const [authid, p] of Object.entries(principals ?? {})) {
            const secret = isObj(p) ? envValue(p.secret) : null;
            if (!isObj(p) || !secret) {
              skipped.push({ where: `${at}.users.${authid}`, why: "secret missing or an unset environment variable" });
              continue;
            }
            const salted =
              p.salt !== undefined
                ? { salt: String(p.salt), iterations: Number(p.iterations ?? 1000), keylen: Number(p.keylen ?? 32) }
                : {};
            addUser(`${at}.users.${authid}`, authid, p, { method: "wampcra", secret, ...salted });
          }
          break;
        case "cryptosign":
          if (m.trustroots !== undefined)
            skipped.push({ where: `${at}.trustroots`, why: "cryptosign trustroots (certificates) are not supported" });
          for (const [authid, p] of Object.entries(principals ?? {})) {
            const keys = isObj(p) && Array.isArray(p.authorized_keys) ? p.authorized_keys : [];
            const good = keys.filter((k): k is string => typeof k === "string" && PUBKEY.test(k)).map((k) => k.toLowerCase());
            if (good.length !== keys.length)
              skipped.push({ where: `${at}.principals.${authid}`, why: "some authorized_keys are not 64-hex Ed25519 keys" });
            if (good.length > 0 && isObj(p)) addUser(`${at}.principals.${authid}`, authid, p, { method: "cryptosign", pubkeys: good });
          }
          break;
        case "scram":
          for (const [authid, p] of Object.entries(principals ?? {})) {
            const data = isObj(p)
              ? parseScramCredential({
                  kdf: p.kdf,
                  salt: p.salt,
                  iterations: p.iterations,
                  memory: p.memory,
                  stored_key: p["stored-key"],
                  server_key: p["server-key"],
                })
              : null;
            if (!data || !isObj(p))
              skipped.push({
                where: `${at}.principals.${authid}`,
                why: "not an argon2id-13 SCRAM principal with salt, iterations, memory, stored-key, server-key",
              });
            else addUser(`${at}.principals.${authid}`, authid, p, { method: "scram", data: { ...data } });
          }
          break;
      }
    }
  }
  return { realms: [...realms.values()], users: [...users.values()], skipped };
}

export interface ApplyResult {
  realmsCreated: number;
  rolesCreated: number;
  rules: number;
  usersCreated: number;
  usersExisting: string[];
}

/** Writes the plan in one transaction. Existing realms and roles are reused; existing users are left alone. */
export async function applyImport(ctx: AdminContext, plan: ImportPlan): Promise<ApplyResult> {
  const needsCra = plan.users.some((u) => u.credentials.some((c) => c.method === "wampcra"));
  if (needsCra && !craEnabled(ctx.config))
    throw new AdminError("the config has WAMP-CRA users: set cra.keyFile or cra.key first (secrets are stored encrypted)");
  const cipher = needsCra ? loadCraCipher(ctx.config.cra) : null;
  const hasher = new PasswordHasher(ctx.config.argon2);
  // Hash before opening the transaction: argon2 is slow and must not hold locks.
  const hashes = new Map<PlannedUser, string>();
  for (const u of plan.users) {
    const t = u.credentials.find((c) => c.method === "ticket");
    if (t?.method === "ticket") hashes.set(u, await hasher.hash(t.ticket));
  }
  const counts = { realms: plan.realms.length, roles: plan.realms.reduce((n, r) => n + r.roles.length, 0), users: plan.users.length };
  return change(ctx, { action: "import.crossbar", detail: counts }, async (db) => {
    const res: ApplyResult = { realmsCreated: 0, rolesCreated: 0, rules: 0, usersCreated: 0, usersExisting: [] };
    for (const r of plan.realms) {
      if ((await q.addRealm(db, r.name)).created) res.realmsCreated++;
      for (const role of r.roles) {
        if (!(await q.roleExists(db, r.name, role.name))) res.rolesCreated++;
        await q.addRole(db, r.name, role.name);
        for (const rule of role.rules) {
          await q.grant(db, r.name, role.name, { ...rule });
          res.rules++;
        }
      }
      if (r.anonymousRole)
        await q.setAnonymousPolicy(db, r.name, { allowed: true, role: r.anonymousRole, cidrs: [], authid: null, extra: {} });
    }
    for (const u of plan.users) {
      if (await q.findUser(db, u.realm, u.authid)) {
        res.usersExisting.push(`${u.realm}/${u.authid}`);
        continue;
      }
      const id = await q.addUser(db, { realm: u.realm, authid: u.authid, role: u.role, extra: u.extra });
      res.usersCreated++;
      for (const c of u.credentials) {
        if (c.method === "ticket") await q.upsertSecretCredential(db, id, "ticket", { phc: hashes.get(u)! });
        else if (c.method === "scram") await q.upsertSecretCredential(db, id, "scram", c.data);
        else if (c.method === "wampcra") {
          const salted = c.salt !== undefined ? { salt: c.salt, iterations: c.iterations, keylen: c.keylen } : { salted: false };
          await q.upsertSecretCredential(db, id, "wampcra", buildCraCredential(cipher!, c.secret, salted));
        } else for (const k of c.pubkeys) await q.addKeyedCredential(db, id, "cryptosign", k, "imported", null);
      }
    }
    return res;
  });
}

/** The plan without secrets, for printing. */
export function describePlan(plan: ImportPlan): Obj {
  return {
    realms: plan.realms.map((r) => ({
      name: r.name,
      anonymous_role: r.anonymousRole,
      roles: r.roles.map((ro) => ({ name: ro.name, rules: ro.rules })),
    })),
    users: plan.users.map((u) => ({ realm: u.realm, authid: u.authid, role: u.role, methods: u.credentials.map((c) => c.method) })),
    skipped: plan.skipped,
  };
}
