/**
 * The one configuration schema. Every key can come from a file (--config, JSON or YAML),
 * an AUTHD_* environment variable, or a --flag; flags beat env, env beats the file.
 */
export const schema = {
  database: {
    url: {
      doc: "PostgreSQL connection string.",
      format: String,
      default: "postgres://postgres@127.0.0.1:5432/wamp_authd",
      env: "AUTHD_DATABASE_URL",
      arg: "database-url",
      sensitive: true,
    },
    poolMax: { doc: "Maximum pool connections.", format: "positive-int", default: 10, env: "AUTHD_DATABASE_POOL_MAX", arg: "database-pool-max" },
  },
  router: {
    url: {
      doc: "How to reach the router's privileged transport: ws://, wss://, tcp://host:port (rawsocket) or rawsocket+unix:///path.",
      format: "router-url",
      default: "rawsocket+unix:///run/crossbar/authd.sock",
      env: "AUTHD_ROUTER_URL",
      arg: "router-url",
    },
    authRealm: {
      doc: "Realm where the authenticator is registered (Crossbar's authenticator-realm, or the app realm).",
      format: "strict-uri",
      default: "authd",
      env: "AUTHD_ROUTER_AUTH_REALM",
      arg: "router-auth-realm",
    },
    realms: {
      doc: "Realms whose authorizer this service answers (one session per realm). Empty: every realm in the store, followed live. Comma separated in env/flags.",
      format: "uri-list",
      default: [],
      env: "AUTHD_ROUTER_REALMS",
      arg: "router-realms",
    },
    authmethod: {
      doc: "How wamp-authd authenticates to the router: anonymous, ticket or cryptosign.",
      format: ["anonymous", "ticket", "cryptosign"],
      default: "anonymous",
      env: "AUTHD_ROUTER_AUTHMETHOD",
      arg: "router-authmethod",
    },
    authid: { doc: "authid for ticket/cryptosign.", format: String, default: "wamp-authd", env: "AUTHD_ROUTER_AUTHID", arg: "router-authid" },
    ticket: { doc: "Ticket for authmethod ticket.", format: String, default: "", env: "AUTHD_ROUTER_TICKET", sensitive: true },
    keyFile: {
      doc: "File with the Ed25519 private key seed (64 hex chars) for authmethod cryptosign.",
      format: String,
      default: "",
      env: "AUTHD_ROUTER_KEY_FILE",
      arg: "router-key-file",
    },
    maxRetryDelayMs: { doc: "Upper bound of the reconnect back-off.", format: "positive-int", default: 2000, env: "AUTHD_ROUTER_MAX_RETRY_DELAY_MS" },
  },
  procedures: {
    authenticate: { doc: "URI registered for authentication.", format: "strict-uri", default: "authd.authenticate", env: "AUTHD_PROCEDURE_AUTHENTICATE", arg: "procedure-authenticate" },
    authorize: { doc: "URI registered for authorization.", format: "strict-uri", default: "authd.authorize", env: "AUTHD_PROCEDURE_AUTHORIZE", arg: "procedure-authorize" },
  },
  log: {
    level: {
      doc: "pino log level.",
      format: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
      default: "info",
      env: "AUTHD_LOG_LEVEL",
      arg: "log-level",
    },
  },
  http: {
    port: { doc: "HTTP port for /healthz, /readyz, /metrics (0 = disabled).", format: "port", default: 9464, env: "AUTHD_HTTP_PORT", arg: "http-port" },
    host: { doc: "HTTP bind address.", format: String, default: "127.0.0.1", env: "AUTHD_HTTP_HOST", arg: "http-host" },
  },
  argon2: {
    memoryCost: { doc: "argon2id memory in KiB (OWASP: 19456).", format: "positive-int", default: 19456, env: "AUTHD_ARGON2_MEMORY_COST" },
    timeCost: { doc: "argon2id iterations (OWASP: 2).", format: "positive-int", default: 2, env: "AUTHD_ARGON2_TIME_COST" },
    parallelism: { doc: "argon2id lanes (OWASP: 1).", format: "positive-int", default: 1, env: "AUTHD_ARGON2_PARALLELISM" },
  },
  deadlineMs: {
    doc: "Every router call is answered within this many ms; a late answer is a denial.",
    format: "positive-int",
    default: 3000,
    env: "AUTHD_DEADLINE_MS",
    arg: "deadline-ms",
  },
  reloadOnStart: {
    doc: "Load the permission index before registering the authorizer.",
    format: "strict-boolean",
    default: true,
    env: "AUTHD_RELOAD_ON_START",
  },
} as const;
