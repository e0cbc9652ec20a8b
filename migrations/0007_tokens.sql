-- Tokens: JWT issuers a realm trusts, API tokens and device tickets, revoked JWT ids, and the live
-- sessions that logged in with a token (so every instance can end them at expiry or on revocation).

CREATE TABLE authd.token_issuers (
  id            serial PRIMARY KEY,
  realm_id      integer NOT NULL REFERENCES authd.realms(id) ON DELETE CASCADE,
  name          text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
  -- The `iss` claim this issuer's tokens carry (compared exactly).
  iss           text NOT NULL CHECK (length(iss) BETWEEN 1 AND 1024),
  -- Accepted `aud` values: a token must name at least one of them.
  audiences     text[] NOT NULL CHECK (cardinality(audiences) BETWEEN 1 AND 32),
  -- Where the verification keys come from: exactly one of a JWKS URL, a JWKS file, an HMAC secret file
  -- (paths on the service's host: the key material itself never enters the database).
  jwks_url      text CHECK (jwks_url ~ '^https?://'),
  jwks_file     text,
  secret_file   text,
  algorithms    text[] NOT NULL CHECK (cardinality(algorithms) >= 1),
  leeway_s      integer NOT NULL DEFAULT 30 CHECK (leeway_s BETWEEN 0 AND 600),
  authid_claim  text NOT NULL DEFAULT 'sub' CHECK (length(authid_claim) BETWEEN 1 AND 255),
  role_claim    text CHECK (length(role_claim) BETWEEN 1 AND 255),
  -- Ordered [{"value": claim value, "role": role}]: the first entry whose value the claim holds wins.
  role_map      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(role_map) = 'array'),
  default_role  text CHECK (default_role <> 'trusted'),
  realm_claim   text CHECK (length(realm_claim) BETWEEN 1 AND 255),
  extra_claims  text[] NOT NULL DEFAULT '{}',
  -- true: a subject with no user in the realm is created as one (with the mapped or default role).
  provision     boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (realm_id, name),
  UNIQUE (realm_id, iss),
  CHECK (num_nonnulls(jwks_url, jwks_file, secret_file) = 1),
  -- No algorithm confusion: an HMAC issuer accepts only HS*, a public-key issuer never does.
  CHECK (CASE WHEN secret_file IS NOT NULL
              THEN algorithms <@ ARRAY['HS256', 'HS384', 'HS512']
              ELSE algorithms <@ ARRAY['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] END)
);
CREATE TRIGGER token_issuers_touch BEFORE UPDATE ON authd.token_issuers FOR EACH ROW EXECUTE FUNCTION authd.touch_updated_at();

-- API tokens (made by an operator) and device tickets (asked for by a logged-in session). The token
-- text is authd_<kind>_<id>_<secret><checksum>; only an HMAC-SHA256 of id and secret is kept.
CREATE TABLE authd.api_tokens (
  id            text PRIMARY KEY CHECK (id ~ '^[a-z2-7]{16}$'),
  user_id       bigint NOT NULL REFERENCES authd.users(id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('api', 'device')),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- The role the token's sessions get instead of the user's (API tokens only).
  role          text CHECK (role <> 'trusted' AND role ~ '^[0-9a-z_.-]+$'),
  key_id        text NOT NULL,
  secret_hash   bytea NOT NULL CHECK (length(secret_hash) = 32),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE UNIQUE INDEX api_tokens_live_name ON authd.api_tokens (user_id, name) WHERE kind = 'api' AND revoked_at IS NULL;
CREATE INDEX api_tokens_user ON authd.api_tokens (user_id, kind);

CREATE TABLE authd.revoked_jtis (
  issuer_id   integer NOT NULL REFERENCES authd.token_issuers(id) ON DELETE CASCADE,
  jti         text NOT NULL CHECK (length(jti) BETWEEN 1 AND 255),
  revoked_at  timestamptz NOT NULL DEFAULT now(),
  -- When the entry may be forgotten (after the token's own expiry); NULL: kept.
  keep_until  timestamptz,
  PRIMARY KEY (issuer_id, jti)
);

-- One row per session that logged in with a token: the router's session id (the authenticator's
-- details.session), where it lives, and when it must end. Rows of sessions that ended on their own are
-- removed by reconciling with the router's session list.
CREATE TABLE authd.token_sessions (
  session_id     bigint PRIMARY KEY,
  realm          text NOT NULL,
  authid         text NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('jwt', 'api', 'device')),
  token_id       text REFERENCES authd.api_tokens(id) ON DELETE SET NULL,
  issuer_id      integer REFERENCES authd.token_issuers(id) ON DELETE SET NULL,
  jti            text,
  expires_at     timestamptz NOT NULL,
  -- Why the session ends before its token's expiry (revoked, removed); NULL: expiry.
  end_reason     text,
  -- An instance ending the session holds the row until then (FOR UPDATE SKIP LOCKED + this lease).
  claimed_until  timestamptz NOT NULL DEFAULT '-infinity',
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX token_sessions_expiry ON authd.token_sessions (expires_at);
CREATE INDEX token_sessions_realm ON authd.token_sessions (realm, created_at);
CREATE INDEX token_sessions_token ON authd.token_sessions (token_id) WHERE token_id IS NOT NULL;
CREATE INDEX token_sessions_jti ON authd.token_sessions (issuer_id, jti) WHERE jti IS NOT NULL;

-- Whatever ends a token makes its sessions due at once (expires_at = now(), with the reason), so the
-- sweep every instance runs needs only the expiry index: a revoked API token or device ticket, a
-- shortened expiry, a revoked jti, a removed issuer or token.
CREATE FUNCTION authd.expire_token_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'token_issuers' THEN
    UPDATE authd.token_sessions SET expires_at = now(), end_reason = 'issuer removed' WHERE issuer_id = OLD.id;
  ELSIF TG_TABLE_NAME = 'revoked_jtis' THEN
    UPDATE authd.token_sessions SET expires_at = now(), end_reason = 'jti revoked'
     WHERE issuer_id = NEW.issuer_id AND jti = NEW.jti;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE authd.token_sessions SET expires_at = now(), end_reason = 'token removed' WHERE token_id = OLD.id;
  ELSIF NEW.revoked_at IS NOT NULL THEN
    UPDATE authd.token_sessions SET expires_at = now(), end_reason = 'token revoked' WHERE token_id = NEW.id;
  ELSE
    UPDATE authd.token_sessions SET expires_at = NEW.expires_at WHERE token_id = NEW.id AND expires_at > NEW.expires_at;
  END IF;
  RETURN COALESCE(NEW, OLD);
END $$;
CREATE TRIGGER token_issuers_expire BEFORE DELETE ON authd.token_issuers FOR EACH ROW EXECUTE FUNCTION authd.expire_token_sessions();
CREATE TRIGGER api_tokens_expire_delete BEFORE DELETE ON authd.api_tokens FOR EACH ROW EXECUTE FUNCTION authd.expire_token_sessions();
CREATE TRIGGER api_tokens_expire_update AFTER UPDATE OF revoked_at, expires_at ON authd.api_tokens
  FOR EACH ROW EXECUTE FUNCTION authd.expire_token_sessions();
CREATE TRIGGER revoked_jtis_expire AFTER INSERT ON authd.revoked_jtis FOR EACH ROW EXECUTE FUNCTION authd.expire_token_sessions();

-- Changes running instances must act on: issuer configuration (reload it) and anything that ends
-- sessions (sweep now). `sweep` is a key of its own: the base trigger's `revoke` kills by authid.
CREATE FUNCTION authd.notify_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('authd_change', jsonb_build_object('table', TG_TABLE_NAME, 'op', TG_OP,
    'sweep', TG_TABLE_NAME <> 'token_issuers' OR TG_OP = 'DELETE')::text);
  RETURN NULL;
END $$;
CREATE TRIGGER token_issuers_notify AFTER INSERT OR UPDATE OR DELETE ON authd.token_issuers
  FOR EACH ROW EXECUTE FUNCTION authd.notify_token_change();
-- Not on last_used_at updates or new tokens: nothing to do for those.
CREATE TRIGGER api_tokens_notify AFTER UPDATE OF revoked_at, expires_at OR DELETE ON authd.api_tokens
  FOR EACH ROW EXECUTE FUNCTION authd.notify_token_change();
CREATE TRIGGER revoked_jtis_notify AFTER INSERT ON authd.revoked_jtis
  FOR EACH ROW EXECUTE FUNCTION authd.notify_token_change();

-- Reserved roles (authd.reserved_roles) can come from no token either: an issuer's default role or
-- role map, or an API token's role.
CREATE FUNCTION authd.refuse_reserved_token_role() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  candidates text[];
  hit text;
BEGIN
  IF TG_TABLE_NAME = 'token_issuers' THEN
    SELECT array_agg(e->>'role') INTO candidates FROM jsonb_array_elements(NEW.role_map) e;
    candidates := COALESCE(candidates, '{}') || NEW.default_role;
  ELSE
    candidates := ARRAY[NEW.role];
  END IF;
  SELECT name INTO hit FROM authd.reserved_roles WHERE name = ANY (candidates) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'role "%" is reserved and cannot be assigned from the store', hit USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER token_issuers_reserved BEFORE INSERT OR UPDATE OF role_map, default_role ON authd.token_issuers
  FOR EACH ROW EXECUTE FUNCTION authd.refuse_reserved_token_role();
CREATE TRIGGER api_tokens_reserved BEFORE INSERT OR UPDATE OF role ON authd.api_tokens
  FOR EACH ROW EXECUTE FUNCTION authd.refuse_reserved_token_role();

-- authd.tokens.* map a calling session's identity (overrides applied) back to its user.
CREATE INDEX users_session_identity ON authd.users ((COALESCE(authid_override, authid)));
