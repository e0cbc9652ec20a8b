-- wamp-authd base schema: realms, roles, permissions, users, credentials.
CREATE SCHEMA IF NOT EXISTS authd;

CREATE TABLE authd.realms (
  id          serial PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name ~ '^([0-9a-z_]+\.)*[0-9a-z_]+$'),
  -- Dynamic anonymous policy for this realm (used by the anonymous method).
  anonymous_allowed boolean NOT NULL DEFAULT false,
  anonymous_role    text CHECK (anonymous_role IS NULL OR anonymous_role <> 'trusted'),
  anonymous_cidrs   cidr[] NOT NULL DEFAULT '{}',
  anonymous_authid  text,
  anonymous_extra   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(anonymous_extra) = 'object'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE authd.roles (
  id          serial PRIMARY KEY,
  realm_id    integer NOT NULL REFERENCES authd.realms(id) ON DELETE CASCADE,
  -- 'trusted' is Crossbar's built-in allow-everything role: never grantable from the store.
  name        text NOT NULL CHECK (name <> 'trusted' AND name ~ '^[0-9a-z_.-]+$'),
  -- Changing this role's grants kills its live sessions when true.
  kill_on_change boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (realm_id, name)
);

CREATE TABLE authd.permissions (
  id            bigserial PRIMARY KEY,
  role_id       integer NOT NULL REFERENCES authd.roles(id) ON DELETE CASCADE,
  uri           text NOT NULL CHECK (length(uri) <= 512 AND uri !~ '[[:space:]#]'),
  match         text NOT NULL DEFAULT 'exact' CHECK (match IN ('exact', 'prefix', 'wildcard')),
  allow_call      boolean NOT NULL DEFAULT false,
  allow_register  boolean NOT NULL DEFAULT false,
  allow_publish   boolean NOT NULL DEFAULT false,
  allow_subscribe boolean NOT NULL DEFAULT false,
  disclose_caller    boolean NOT NULL DEFAULT false,
  disclose_publisher boolean NOT NULL DEFAULT false,
  -- Ask the router to cache the decision. Crossbar has no purge: see README.
  cache         boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (role_id, uri, match)
);

CREATE TABLE authd.users (
  id          bigserial PRIMARY KEY,
  realm_id    integer NOT NULL REFERENCES authd.realms(id) ON DELETE CASCADE,
  authid      text NOT NULL CHECK (length(authid) BETWEEN 1 AND 255),
  -- Role name in the realm the session ends up in; checked against that realm's roles at login.
  role        text NOT NULL CHECK (role <> 'trusted'),
  disabled    boolean NOT NULL DEFAULT false,
  extra       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
  -- Optional overrides answered to the router: the session's authid and realm.
  authid_override text,
  realm_override  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (realm_id, authid)
);

CREATE TABLE authd.credentials (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES authd.users(id) ON DELETE CASCADE,
  method      text NOT NULL CHECK (method IN ('ticket', 'wampcra', 'cryptosign', 'scram', 'tls')),
  -- Lookup key within a method: cryptosign public key (hex) or TLS certificate fingerprint.
  lookup      text,
  label       text,
  data        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
  expires_at  timestamptz,
  revoked     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Password-like methods: one credential per user and method.
CREATE UNIQUE INDEX credentials_one_secret ON authd.credentials (user_id, method)
  WHERE method IN ('ticket', 'wampcra', 'scram');
CREATE UNIQUE INDEX credentials_lookup ON authd.credentials (method, lookup, user_id) WHERE lookup IS NOT NULL;
CREATE INDEX credentials_by_lookup ON authd.credentials (method, lookup) WHERE lookup IS NOT NULL;

CREATE FUNCTION authd.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE TRIGGER realms_touch BEFORE UPDATE ON authd.realms FOR EACH ROW EXECUTE FUNCTION authd.touch_updated_at();
CREATE TRIGGER roles_touch BEFORE UPDATE ON authd.roles FOR EACH ROW EXECUTE FUNCTION authd.touch_updated_at();
CREATE TRIGGER permissions_touch BEFORE UPDATE ON authd.permissions FOR EACH ROW EXECUTE FUNCTION authd.touch_updated_at();
CREATE TRIGGER users_touch BEFORE UPDATE ON authd.users FOR EACH ROW EXECUTE FUNCTION authd.touch_updated_at();
CREATE TRIGGER credentials_touch BEFORE UPDATE ON authd.credentials FOR EACH ROW EXECUTE FUNCTION authd.touch_updated_at();
