-- Failed-login counters shared by every instance, and the audit trail.

-- One row per throttled key: scope 'account' (key = JSON array [realm, authid]) or 'peer' (key = client address).
CREATE TABLE authd.login_failures (
  scope         text NOT NULL CHECK (scope IN ('account', 'peer')),
  key           text NOT NULL,
  failures      integer NOT NULL DEFAULT 0,
  first_failure timestamptz NOT NULL DEFAULT now(),
  last_failure  timestamptz NOT NULL DEFAULT now(),
  locked_until  timestamptz,
  PRIMARY KEY (scope, key)
);

CREATE TABLE authd.audit (
  id        bigserial PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  -- login: an authentication answer; admin: a change made with the CLI; revoke: sessions killed.
  kind      text NOT NULL CHECK (kind IN ('login', 'admin', 'revoke')),
  outcome   text NOT NULL,
  realm     text,
  authid    text,
  method    text,
  peer      text,
  session   bigint,
  reason    text,
  actor     text,
  detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON authd.audit (at);
CREATE INDEX audit_subject ON authd.audit (realm, authid, at);
