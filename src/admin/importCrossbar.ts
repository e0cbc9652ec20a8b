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
import { buildCraCredential, checkCraSalt, looksLikeDerivedKey } from "../auth/craCredential.js";
import { PasswordHasher } from "../auth/passwords.js";
import type { Config } from "../config/load.js";
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
  /** From a transport's static `anonymous` method, only with ImportOptions.anonymousFromTransports. */
  anonymousRole: string | null;
}

export type PlannedCredential =
  | { method: "ticket"; ticket: string }
  | { method: "wampcra"; secret: string; salt?: string; iterations?: number; keylen?: number; derived?: boolean }
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
  /** Imported, but wamp-authd will answer differently from Crossbar's static config (or the input looks wrong). */
  warnings: Skipped[];
}

/** wamp-authd's own realm and procedures (from its config): what an import must never hand out. */
export interface ServiceIdentity {
  authRealm: string;
  authenticate: string;
  authorize: string;
  /** Procedures the service offers to clients (device tickets): registered by the service alone. */
  userPrefix: string;
}

const DEFAULT_SERVICE: ServiceIdentity = {
  authRealm: "authd",
  authenticate: "authd.authenticate",
  authorize: "authd.authorize",
  userPrefix: "authd.tokens.",
};

export function serviceIdentity(config: Config): ServiceIdentity {
  const p = config.procedures;
  return { authRealm: config.router.authRealm, authenticate: p.authenticate, authorize: p.authorize, userPrefix: p.userPrefix };
}

export interface ImportOptions {
  /**
   * Make a transport's static anonymous role the anonymous policy of the realms having that role.
   * Off by default: such a role is usually a privileged transport's (wamp-authd's own), and as a
   * realm policy wamp-authd would hand it to anyone on its public, dynamic transport.
   */
  anonymousFromTransports?: boolean;
  /** Salted wampcra `secret`s are already the PBKDF2 keys (Crossbar <= 23.1 convention, wampy's docs). */
  craDerivedSecrets?: boolean;
  service?: ServiceIdentity;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const ENV_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const PUBKEY = /^[0-9a-fA-F]{64}$/;
/** A non-empty wildcard component autobahn's Pattern accepts; with any other, Crossbar's wildcard rule never matches. */
const CROSSBAR_WILDCARD_COMPONENT = /^[a-z0-9][a-z0-9_-]*$/;

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

interface Notes {
  skipped: Skipped[];
  warnings: Skipped[];
}

function rulesOf(perms: unknown, where: string, notes: Notes): PlannedRule[] {
  if (!Array.isArray(perms)) {
    notes.skipped.push({ where, why: "permissions is not a list" });
    return [];
  }
  const out: PlannedRule[] = [];
  const kinds = new Map<string, Array<{ match: MatchKind; at: string }>>();
  perms.forEach((p, i) => {
    const at = `${where}[${i}]`;
    if (!isObj(p) || typeof p.uri !== "string") return void notes.skipped.push({ where: at, why: "permission without a uri" });
    let r: { uri: string; match: MatchKind };
    try {
      r = ruleUri(p.uri, p.match === undefined ? undefined : text(p.match));
    } catch (err) {
      return void notes.skipped.push({ where: at, why: (err as Error).message });
    }
    const allow = isObj(p.allow) ? p.allow : {};
    const disclose = isObj(p.disclose) ? p.disclose : {};
    if (p.validate !== undefined)
      notes.skipped.push({ where: `${at}.validate`, why: "payload validation is not supported; the rule is imported without it" });
    for (const k of Object.keys(p)) {
      if (!["uri", "match", "allow", "disclose", "cache", "validate"].includes(k))
        notes.skipped.push({ where: `${at}.${k}`, why: "unknown permission key ignored" });
    }
    if (r.match === "wildcard") {
      const bad = r.uri.split(".").filter((c) => c !== "" && !CROSSBAR_WILDCARD_COMPONENT.test(c));
      if (bad.length > 0)
        notes.warnings.push({
          where: at,
          why: `wildcard rule "${r.uri}": Crossbar never matches a wildcard with the component ${bad.map((c) => `"${c}"`).join(", ")} (only lowercase letters, digits, "_" and "-", not leading "_" or "-"); wamp-authd does`,
        });
    }
    kinds.set(r.uri, [...(kinds.get(r.uri) ?? []), { match: r.match, at }]);
    out.push({
      ...r,
      allow: ACTIONS.filter((a) => allow[a] === true),
      discloseCaller: disclose.caller === true,
      disclosePublisher: disclose.publisher === true,
      cache: p.cache === true,
    });
  });
  for (const [uri, seen] of kinds) {
    if (seen.some((k) => k.match === "exact") && seen.some((k) => k.match === "prefix"))
      notes.warnings.push({
        where: seen.map((k) => k.at).join(", "),
        why: `"${uri}" has an exact and a prefix rule: Crossbar keeps only the last of them (${seen[seen.length - 1]!.match}); wamp-authd applies both`,
      });
  }
  return out;
}

/** Whether `rule` allows some URI it could be asked about: `target` itself or, with `subtree`, one under `target.`. */
function ruleReaches(rule: PlannedRule, target: string, subtree: boolean): boolean {
  switch (rule.match) {
    case "exact":
      return rule.uri === target || (subtree && rule.uri.startsWith(`${target}.`));
    case "prefix":
      return target.startsWith(rule.uri) || (subtree && rule.uri.startsWith(`${target}.`));
    case "wildcard": {
      const rc = rule.uri.split(".");
      const tc = target.split(".");
      if (rc.length < tc.length || (rc.length > tc.length && !subtree)) return false;
      return tc.every((c, i) => rc[i] === "" || rc[i] === c);
    }
  }
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

/** A config value for a message or a match kind: strings as they are, anything else as JSON. */
function text(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function envValue(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const m = ENV_REF.exec(v);
  if (!m) return v;
  return process.env[m[1]!] ?? null;
}

export function planImport(config: unknown, opts: ImportOptions = {}): ImportPlan {
  if (!isObj(config)) throw new AdminError("not a Crossbar configuration (expected an object)");
  const service = opts.service ?? DEFAULT_SERVICE;
  const skipped: Skipped[] = [];
  const warnings: Skipped[] = [];
  const realms = new Map<string, PlannedRealm>();
  const users = new Map<string, PlannedUser>();
  const workers = Array.isArray(config.workers) ? config.workers : [];
  if (workers.length === 0) skipped.push({ where: "workers", why: "no workers: nothing to import" });

  const routers: Array<{ at: string; w: Obj }> = [];
  const auths: Array<{ where: string; auth: Obj }> = [];
  workers.forEach((w, wi) => {
    const at = `workers[${wi}]`;
    if (!isObj(w) || w.type !== "router")
      return void (isObj(w) && skipped.push({ where: at, why: `worker of type "${String(w.type)}" is not a router` }));
    routers.push({ at, w });
    authBlocks(w.transports, `${at}.transports`, auths);
  });

  // Where the authenticator lives and which procedures belong to it or to the authorizer. Clients
  // must never log in to the authenticator realm, nor get a role that may register those procedures
  // (its holders could answer logins or authorizations for everyone).
  const authRealms = new Map<string, string>();
  // [uri, also everything under `uri.`]: wamp-authd registers <authenticate>.<method> too.
  // Whoever may register under the user-facing prefix could hand out fake device tickets.
  const serviceUris = new Map<string, boolean>([
    [service.authenticate, true],
    [service.authorize, false],
    [service.userPrefix.replace(/\.$/, ""), true],
  ]);
  let authenticatorInAppRealm = false;
  for (const { where, auth } of auths) {
    for (const [method, m] of Object.entries(auth)) {
      if (!isObj(m) || m.type !== "dynamic") continue;
      if (typeof m.authenticator === "string") serviceUris.set(m.authenticator, true);
      const ar = m["authenticator-realm"];
      if (typeof ar === "string") {
        if (!authRealms.has(ar)) authRealms.set(ar, `named as authenticator-realm at ${where}.${method}`);
      } else authenticatorInAppRealm = true;
    }
  }
  for (const { w } of routers) {
    for (const r of Array.isArray(w.realms) ? w.realms : []) {
      for (const ro of isObj(r) && Array.isArray(r.roles) ? r.roles : []) {
        if (isObj(ro) && typeof ro.authorizer === "string") serviceUris.set(ro.authorizer, false);
      }
    }
  }
  // A dynamic method without authenticator-realm makes Crossbar call the authenticator in the client's
  // own realm: then wamp-authd's router.authRealm is an app realm as well, and only its service roles are left out.
  if (!authRealms.has(service.authRealm) && !authenticatorInAppRealm)
    authRealms.set(service.authRealm, "wamp-authd's router.authRealm (where it registers the authenticator)");

  /** realm → roles the config declares there that are the service's own (not imported). */
  const serviceRoles = new Map<string, Set<string>>();
  for (const { at, w } of routers) {
    (Array.isArray(w.realms) ? w.realms : []).forEach((r, ri) => {
      const rat = `${at}.realms[${ri}]`;
      if (!isObj(r) || typeof r.name !== "string") return void skipped.push({ where: rat, why: "realm without a name" });
      if (authRealms.has(r.name)) {
        return void skipped.push({
          where: rat,
          why: `realm "${r.name}" is the authenticator realm (${authRealms.get(r.name)}): clients must never log in there, nothing in it is imported`,
        });
      }
      if (!/^([0-9a-z_]+\.)*[0-9a-z_]+$/.test(r.name))
        return void skipped.push({ where: rat, why: `realm name "${r.name}" is not valid in the store` });
      if (r.name === service.authRealm)
        warnings.push({
          where: rat,
          why: `realm "${r.name}" is wamp-authd's router.authRealm but dynamic auth here has no authenticator-realm, so it is imported as an app realm`,
        });
      const realm = realms.get(r.name) ?? { name: r.name, roles: [], anonymousRole: null };
      realms.set(r.name, realm);
      (Array.isArray(r.roles) ? r.roles : []).forEach((ro, oi) => {
        const oat = `${rat}.roles[${oi}]`;
        if (!isObj(ro) || typeof ro.name !== "string") return void skipped.push({ where: oat, why: "role without a name" });
        if (ro.name === "trusted" || !/^[0-9a-z_.-]+$/.test(ro.name))
          return void skipped.push({ where: oat, why: `role name "${ro.name}" cannot be stored` });
        if (ro.authorizer !== undefined)
          return void skipped.push({ where: oat, why: `role "${ro.name}" uses a dynamic authorizer (${text(ro.authorizer)})` });
        // Notes on the rules count only if the role is imported.
        const notes: Notes = { skipped: [], warnings: [] };
        const rules = ro.permissions === undefined ? [] : rulesOf(ro.permissions, `${oat}.permissions`, notes);
        const reaches = [...serviceUris].filter(([uri, subtree]) =>
          rules.some((rule) => rule.allow.includes("register") && ruleReaches(rule, uri, subtree)),
        );
        if (reaches.length > 0) {
          const name = ro.name;
          serviceRoles.set(realm.name, (serviceRoles.get(realm.name) ?? new Set<string>()).add(name));
          return void skipped.push({
            where: oat,
            why: `role "${ro.name}" may register ${reaches.map(([u]) => u).join(", ")}: it is the authenticator's/authorizer's own role, not imported (its holders could answer logins or authorizations; an app role needs rules that leave these URIs out)`,
          });
        }
        skipped.push(...notes.skipped);
        warnings.push(...notes.warnings);
        if (ro["default-permissions"] !== undefined)
          skipped.push({ where: `${oat}.default-permissions`, why: "default permissions are not supported (deny by default)" });
        if (realm.roles.some((x) => x.name === ro.name))
          return void skipped.push({
            where: oat,
            why: `role "${ro.name}" is declared twice in realm "${realm.name}"; the first is imported`,
          });
        realm.roles.push({ name: ro.name, rules });
      });
    });
  }

  const realmsWithRole = (role: string) => [...realms.values()].filter((r) => r.roles.some((x) => x.name === role)).map((r) => r.name);
  const isServiceRole = (realm: string, role: string) => serviceRoles.get(realm)?.has(role) === true;
  const realmsWithServiceRole = (role: string) => [...serviceRoles].filter(([, roles]) => roles.has(role)).map(([realm]) => realm);
  const addUser = (where: string, authid: string, p: Obj, cred: PlannedCredential) => {
    if (typeof p.role !== "string") return void skipped.push({ where, why: `principal "${authid}" has no role` });
    const role = p.role;
    if (typeof p.realm === "string" && authRealms.has(p.realm))
      return void skipped.push({ where, why: `principal "${authid}": realm "${p.realm}" is the authenticator realm` });
    // A principal without a realm logs in to whichever realm the client asks for: import it into every realm having its role.
    const targets = typeof p.realm === "string" ? [p.realm] : realmsWithRole(role);
    if (targets.length === 0) {
      const own = realmsWithServiceRole(role);
      return void skipped.push({
        where,
        why:
          own.length > 0
            ? `principal "${authid}" has the service's own role "${role}" (realm ${own.join(", ")})`
            : `no realm in the config has role "${role}" for principal "${authid}"`,
      });
    }
    for (const realm of targets) {
      if (isServiceRole(realm, role)) {
        skipped.push({ where, why: `principal "${authid}" has the service's own role "${role}" in realm "${realm}"` });
        continue;
      }
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
          if (!opts.anonymousFromTransports) {
            skipped.push({
              where: at,
              why:
                `a transport's static anonymous role ("${m.role}") is not made a realm's anonymous policy: wamp-authd would ` +
                `admit anyone as "${m.role}" on the transports it authenticates (--anonymous-from-transports imports it)`,
            });
            break;
          }
          for (const realm of realmsWithServiceRole(m.role))
            skipped.push({ where: at, why: `anonymous role "${m.role}" is the service's own role in realm "${realm}"` });
          const targets = realmsWithRole(m.role);
          if (targets.length === 0 && realmsWithServiceRole(m.role).length === 0)
            skipped.push({ where: at, why: `no realm has the anonymous role "${m.role}"` });
          for (const r of targets) {
            const realm = realms.get(r)!;
            if (realm.anonymousRole !== null && realm.anonymousRole !== m.role)
              skipped.push({ where: at, why: `realm "${r}" already gets anonymous role "${realm.anonymousRole}" from another transport` });
            else realm.anonymousRole = m.role;
          }
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
            const pat = `${at}.users.${authid}`;
            const secret = isObj(p) ? envValue(p.secret) : null;
            if (!isObj(p) || !secret) {
              skipped.push({ where: pat, why: "secret missing or an unset environment variable" });
              continue;
            }
            if (p.salt === undefined) {
              addUser(pat, authid, p, { method: "wampcra", secret });
              continue;
            }
            // Crossbar <= 23.1 defaults for a salt without iterations/keylen.
            let salt;
            try {
              const saltText = typeof p.salt === "string" || typeof p.salt === "number" ? String(p.salt) : "";
              salt = checkCraSalt({ salt: saltText, iterations: Number(p.iterations ?? 1000), keylen: Number(p.keylen ?? 32) });
            } catch (err) {
              skipped.push({ where: pat, why: (err as Error).message });
              continue;
            }
            const shaped = looksLikeDerivedKey(secret, salt.keylen);
            if (opts.craDerivedSecrets && !shaped)
              warnings.push({
                where: pat,
                why: `--cra-derived-secrets: the secret is not base64 of ${salt.keylen} bytes, so it is probably not a derived key; clients must sign with it exactly as written`,
              });
            if (!opts.craDerivedSecrets && shaped)
              warnings.push({
                where: pat,
                why: `the secret looks like a PBKDF2-derived key (the Crossbar <= 23.1 convention, e.g. wampy's docs); it is imported as the password the key is derived from. If clients sign with this string, import with --cra-derived-secrets`,
              });
            addUser(pat, authid, p, { method: "wampcra", secret, ...salt, ...(opts.craDerivedSecrets ? { derived: true } : {}) });
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
  return { realms: [...realms.values()], users: [...users.values()], skipped, warnings };
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
          const salted =
            c.salt !== undefined
              ? { salt: c.salt, iterations: c.iterations, keylen: c.keylen, derived: c.derived === true }
              : { salted: false };
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
    users: plan.users.map((u) => ({
      realm: u.realm,
      authid: u.authid,
      role: u.role,
      methods: u.credentials.map((c) => c.method),
      ...(u.credentials.some((c) => c.method === "wampcra" && c.derived === true) ? { wampcra_derived_key: true } : {}),
    })),
    skipped: plan.skipped,
    warnings: plan.warnings,
  };
}
