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
    serializer: {
      doc: "Serializer on a rawsocket router URL: msgpack costs the router less per call than json (Crossbar decodes JSON in Python); the transport must list it in its serializers.",
      format: ["json", "msgpack"],
      default: "json",
      env: "AUTHD_ROUTER_SERIALIZER",
      arg: "router-serializer",
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
    maxRetryDelayMs: { doc: "Upper bound of the reconnect back-off.", format: "positive-int", default: 1000, env: "AUTHD_ROUTER_MAX_RETRY_DELAY_MS" },
  },
  procedures: {
    authenticate: { doc: "URI registered for authentication.", format: "strict-uri", default: "authd.authenticate", env: "AUTHD_PROCEDURE_AUTHENTICATE", arg: "procedure-authenticate" },
    authorize: { doc: "URI registered for authorization.", format: "strict-uri", default: "authd.authorize", env: "AUTHD_PROCEDURE_AUTHORIZE", arg: "procedure-authorize" },
    perMethod: {
      doc: "Also register <authenticate>.<method> (e.g. authd.authenticate.ticket) for every auth method, for routers configured with one authenticator per method; each accepts only its method.",
      format: "strict-boolean",
      default: true,
      env: "AUTHD_PROCEDURE_PER_METHOD",
    },
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
    concurrency: { doc: "Most argon2 hashes computed at once (0: number of cores).", format: "nat", default: 0, env: "AUTHD_ARGON2_CONCURRENCY" },
    threadNice: {
      doc: "Linux nice value (0-19) for the threads computing hashes: with the router on the same cores, a login storm then takes only the CPU routing leaves (0: unchanged; npm run bench compares 0 and 10).",
      format: "nat",
      default: 0,
      env: "AUTHD_ARGON2_THREAD_NICE",
    },
  },
  cra: {
    secretMode: {
      doc: "What the answer's `secret` means for salted WAMP-CRA. plain: the router derives the key from it (Crossbar >= 25.12). derived: the router signs with it as given, so the PBKDF2 key is returned (Crossbar <= 23.1).",
      format: ["plain", "derived"],
      default: "plain",
      env: "AUTHD_CRA_SECRET_MODE",
      arg: "cra-secret-mode",
    },
    keyFile: {
      doc: "File of AES-256-GCM keys that encrypt WAMP-CRA secrets at rest: one `id:64-hex-chars` per line, the first encrypts, all decrypt (rotation).",
      format: String,
      default: "",
      env: "AUTHD_CRA_KEY_FILE",
      arg: "cra-key-file",
    },
    key: {
      doc: "Alternative to keyFile: a single `id:64-hex-chars` key.",
      format: String,
      default: "",
      env: "AUTHD_CRA_KEY",
      sensitive: true,
    },
    onPasswd: {
      doc: "Also store a WAMP-CRA secret when a password is set (needs a CRA key).",
      format: "strict-boolean",
      default: false,
      env: "AUTHD_CRA_ON_PASSWD",
    },
  },
  scram: {
    iterations: { doc: "argon2id time cost for SCRAM credentials.", format: "positive-int", default: 4096, env: "AUTHD_SCRAM_ITERATIONS" },
    memory: { doc: "argon2id memory (KiB) for SCRAM credentials.", format: "positive-int", default: 512, env: "AUTHD_SCRAM_MEMORY" },
  },
  throttle: {
    enabled: { doc: "Count failed logins and lock out brute force.", format: "strict-boolean", default: true, env: "AUTHD_THROTTLE_ENABLED" },
    accountThreshold: { doc: "Failures per (realm, authid) within the window before lockouts start.", format: "positive-int", default: 5, env: "AUTHD_THROTTLE_ACCOUNT_THRESHOLD" },
    peerThreshold: { doc: "Failures per client address within the window before lockouts start.", format: "positive-int", default: 20, env: "AUTHD_THROTTLE_PEER_THRESHOLD" },
    windowMs: { doc: "Failures older than this are forgotten.", format: "positive-int", default: 900000, env: "AUTHD_THROTTLE_WINDOW_MS" },
    baseLockMs: { doc: "First lockout; doubles with every further failure.", format: "positive-int", default: 1000, env: "AUTHD_THROTTLE_BASE_LOCK_MS" },
    maxLockMs: { doc: "Longest lockout.", format: "positive-int", default: 900000, env: "AUTHD_THROTTLE_MAX_LOCK_MS" },
    trustedProxyHeader: {
      doc: "Read the client address from this HTTP header (first address), e.g. x-forwarded-for; empty: the transport peer. Only set it behind a proxy you control.",
      format: String,
      default: "",
      env: "AUTHD_THROTTLE_TRUSTED_PROXY_HEADER",
    },
  },
  audit: {
    enabled: { doc: "Write logins, revocations and admin changes to authd.audit.", format: "strict-boolean", default: true, env: "AUTHD_AUDIT_ENABLED" },
    retentionDays: { doc: "Audit rows older than this are deleted (hourly).", format: "positive-int", default: 90, env: "AUTHD_AUDIT_RETENTION_DAYS" },
  },
  authorize: {
    whenStoreDown: {
      doc: "serve-stale: keep answering from the in-memory index while the store is unreachable; fail-closed: deny everything until it is back.",
      format: ["serve-stale", "fail-closed"],
      default: "serve-stale",
      env: "AUTHD_AUTHORIZE_WHEN_STORE_DOWN",
    },
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
