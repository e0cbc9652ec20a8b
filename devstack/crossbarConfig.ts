/**
 * Builds a Crossbar.io node configuration (config version 2, JSON) wired to wamp-authd:
 *
 * - one router worker holding the authenticator realm (default `authd`) and every app realm;
 * - a privileged RawSocket transport on a Unix socket (static anonymous auth, role `authd`) that
 *   wamp-authd uses to register `authd.authenticate` (auth realm) and `authd.authorize` (app realms);
 * - a public WebSocket transport on 127.0.0.1:<wsPort>/ws whose auth methods are all `type: dynamic`
 *   with `authenticator` = the authenticate URI and `authenticator-realm` = the auth realm;
 * - optionally a second public WebSocket transport over TLS that verifies client certificates
 *   (dynamic `tls` plus the same methods);
 * - any `extraTransports`, appended verbatim.
 *
 * The service role gets static permissions in every realm: `register` on its procedure (and in app
 * realms on the `authd.tokens.` prefix: device tickets), and `call` and `subscribe` on the meta API
 * prefixes `wamp.session.` (kill_by_authid, get, list, on_join, on_leave), `wamp.subscription.` and
 * `wamp.registration.` (list, get, remove_subscriber, remove_callee, on_create, on_subscribe, ...:
 * narrowing live subscriptions and registrations, and list_callees: checking that its own procedures
 * are still registered).
 * `authenticator-role` is deliberately not used: in a router worker only the realm's `trusted`
 * service session exists, anything else leaves clients hanging (docs/crossbar-protocol.md, §1).
 *
 * Pure: no I/O, same input gives the same output.
 */

export type DynamicAuthMethod = "ticket" | "wampcra" | "cryptosign" | "scram" | "anonymous" | "tls";

export interface StackRealm {
  name: string;
  roles: Array<{ name: string; authorizer?: string; permissions?: unknown[] }>;
}

export interface CrossbarConfigOptions {
  /** privileged rawsocket unix socket for wamp-authd */
  socketPath: string;
  /** public websocket port on 127.0.0.1, path /ws */
  wsPort: number;
  /** default "authd" */
  authRealm?: string;
  /** app realms */
  realms: StackRealm[];
  /** default "authd.authenticate" */
  authenticate?: string;
  /** default "authd.authorize" */
  authorize?: string;
  /** dynamic methods on the public transport, default ["ticket"] */
  methods?: DynamicAuthMethod[];
  /** optional second public transport (websocket over TLS with client-cert verification) with dynamic tls+others */
  tls?: { port: number; certificate: string; key: string; caCertificates: string[] };
  /** default "authd" */
  serviceRole?: string;
  /** point each method at its own procedure, `<authenticate>.<method>` (wamp-authd procedures.perMethod) */
  perMethodAuthenticators?: boolean;
  /** appended as-is (e.g. a static-permissions transport for comparisons) */
  extraTransports?: unknown[];
}

export const DEFAULT_AUTH_REALM = "authd";
export const DEFAULT_AUTHENTICATE = "authd.authenticate";
export const DEFAULT_AUTHORIZE = "authd.authorize";
export const DEFAULT_SERVICE_ROLE = "authd";
const PUBLIC_WS_PATH = "ws";
const PUBLIC_MAX_MESSAGE_SIZE = 1024 * 1024;
export const PUBLIC_SERIALIZERS = ["json", "msgpack", "cbor"] as const;

/** Crossbar's check for authenticator/authorizer URIs (autobahn `_URI_PAT_STRICT_NON_EMPTY`). */
const STRICT_URI = /^([\da-z_]+\.)*([\da-z_]+)$/;
/** Crossbar's realm name check (autobahn `_URI_PAT_REALM_NAME`: at least 3 characters; or an Ethereum address). */
const REALM_NAME = /^[A-Za-z][A-Za-z\d_\-@.]{2,254}$/;
const REALM_NAME_ETH = /^0x[A-Fa-f\d]{40}$/;
const METHODS: readonly DynamicAuthMethod[] = ["ticket", "wampcra", "cryptosign", "scram", "anonymous", "tls"];

function checkUri(what: string, uri: string): void {
  if (!STRICT_URI.test(uri)) {
    throw new Error(`crossbarConfig: ${what} URI ${JSON.stringify(uri)} must match ${STRICT_URI} (lowercase letters, digits, _ and dots)`);
  }
}

function checkRealm(name: string): void {
  if (!REALM_NAME.test(name) && !REALM_NAME_ETH.test(name)) {
    throw new Error(`crossbarConfig: invalid realm name ${JSON.stringify(name)} (Crossbar wants ${REALM_NAME})`);
  }
}

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`crossbarConfig: ${what} must be a TCP port number, got ${String(port)}`);
  }
}

function rule(
  uri: string,
  match: "exact" | "prefix",
  allow: { call?: boolean; register?: boolean; publish?: boolean; subscribe?: boolean },
) {
  return {
    uri,
    match,
    allow: { call: !!allow.call, register: !!allow.register, publish: !!allow.publish, subscribe: !!allow.subscribe },
    disclose: { caller: false, publisher: false },
    cache: true,
  };
}

function dynamicAuth(
  methods: readonly DynamicAuthMethod[],
  authenticator: string,
  authRealm: string,
  perMethod: boolean,
): Record<string, unknown> {
  const auth: Record<string, unknown> = {};
  for (const m of methods) {
    auth[m] = { type: "dynamic", authenticator: perMethod ? `${authenticator}.${m}` : authenticator, "authenticator-realm": authRealm };
  }
  return auth;
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

export function crossbarConfig(o: CrossbarConfigOptions): Record<string, unknown> {
  const authRealm = o.authRealm ?? DEFAULT_AUTH_REALM;
  const authenticate = o.authenticate ?? DEFAULT_AUTHENTICATE;
  const authorize = o.authorize ?? DEFAULT_AUTHORIZE;
  const serviceRole = o.serviceRole ?? DEFAULT_SERVICE_ROLE;
  const methods = unique<DynamicAuthMethod>(o.methods ?? ["ticket"]);

  checkUri("authenticate", authenticate);
  checkUri("authorize", authorize);
  checkRealm(authRealm);
  checkPort("wsPort", o.wsPort);
  if (!o.socketPath) throw new Error("crossbarConfig: socketPath is required");
  if (methods.length === 0) throw new Error("crossbarConfig: methods must not be empty");
  for (const m of methods) {
    if (!METHODS.includes(m)) throw new Error(`crossbarConfig: unknown auth method ${JSON.stringify(m)}`);
  }
  if (o.tls) {
    checkPort("tls.port", o.tls.port);
    if (o.tls.port === o.wsPort) throw new Error("crossbarConfig: tls.port must differ from wsPort");
  }

  // realm name -> service procedures to register there (the auth realm may double as an app realm)
  const seen = new Set<string>();
  for (const r of o.realms) {
    checkRealm(r.name);
    if (seen.has(r.name)) throw new Error(`crossbarConfig: realm ${JSON.stringify(r.name)} is listed twice`);
    seen.add(r.name);
    for (const role of r.roles) {
      if (role.name === serviceRole) {
        throw new Error(
          `crossbarConfig: realm ${JSON.stringify(r.name)} defines role ${JSON.stringify(serviceRole)}, which is reserved for the service`,
        );
      }
      if (role.authorizer !== undefined) checkUri(`authorizer of role ${role.name}`, role.authorizer);
    }
  }

  const serviceRoleEntry = (register: string[]) => ({
    name: serviceRole,
    permissions: [
      ...register.map((uri) => rule(uri, "exact", { register: true })),
      // the per-method authenticators, <authenticate>.<method>
      ...(register.includes(authenticate) ? [rule(`${authenticate}.`, "prefix", { register: true })] : []),
      // the device ticket procedures (authd.tokens.issue/list/revoke) in every app realm
      ...(register.includes(authorize) ? [rule("authd.tokens.", "prefix", { register: true })] : []),
      rule("wamp.session.", "prefix", { call: true, subscribe: true }),
      // narrowing live subscriptions/registrations; the registration watch (list_callees)
      rule("wamp.subscription.", "prefix", { call: true, subscribe: true }),
      rule("wamp.registration.", "prefix", { call: true, subscribe: true }),
    ],
  });
  const appRole = (role: StackRealm["roles"][number]) => {
    const out: Record<string, unknown> = { name: role.name };
    if (role.authorizer !== undefined) out["authorizer"] = role.authorizer;
    if (role.permissions !== undefined) out["permissions"] = role.permissions;
    return out;
  };

  const realms: Array<Record<string, unknown>> = [];
  const appAlsoAuth = o.realms.find((r) => r.name === authRealm);
  if (!appAlsoAuth) {
    realms.push({ name: authRealm, roles: [serviceRoleEntry([authenticate])] });
  }
  for (const r of o.realms) {
    const register = r.name === authRealm ? [authenticate, authorize] : [authorize];
    realms.push({ name: r.name, roles: [serviceRoleEntry(register), ...r.roles.map(appRole)] });
  }

  const transports: unknown[] = [
    {
      type: "rawsocket",
      endpoint: { type: "unix", path: o.socketPath },
      // json: autobahn-js's own rawsocket transport; msgpack: wamp-authd's (router.serializer msgpack)
      serializers: ["json", "msgpack"],
      auth: { anonymous: { type: "static", role: serviceRole } },
    },
    {
      type: "web",
      endpoint: { type: "tcp", port: o.wsPort, interface: "127.0.0.1" },
      paths: {
        [PUBLIC_WS_PATH]: {
          type: "websocket",
          serializers: [...PUBLIC_SERIALIZERS],
          // Crossbar accepts 16 MiB messages unless told otherwise (README, Deploying safely).
          options: { max_message_size: PUBLIC_MAX_MESSAGE_SIZE },
          auth: dynamicAuth(methods, authenticate, authRealm, !!o.perMethodAuthenticators),
        },
      },
    },
  ];
  if (o.tls) {
    transports.push({
      type: "web",
      endpoint: {
        type: "tcp",
        port: o.tls.port,
        interface: "127.0.0.1",
        // ca_certificates present => Twisted verifies (and requires) client certificates
        tls: { certificate: o.tls.certificate, key: o.tls.key, ca_certificates: [...o.tls.caCertificates] },
      },
      paths: {
        [PUBLIC_WS_PATH]: {
          type: "websocket",
          serializers: [...PUBLIC_SERIALIZERS],
          // Crossbar accepts 16 MiB messages unless told otherwise (README, Deploying safely).
          options: { max_message_size: PUBLIC_MAX_MESSAGE_SIZE },
          auth: dynamicAuth(unique<DynamicAuthMethod>(["tls", ...methods]), authenticate, authRealm, !!o.perMethodAuthenticators),
        },
      },
    });
  }
  transports.push(...(o.extraTransports ?? []));

  return {
    version: 2,
    controller: {},
    workers: [{ type: "router", realms, transports }],
  };
}
