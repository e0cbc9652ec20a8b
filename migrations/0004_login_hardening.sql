-- Audit rollups (denials an attacker can repeat at will, counted per time window) and service secrets.

-- One row per (window, kind, realm): `realm` is a realm of the store or 'other' (realm names in
-- HELLO are client-chosen), `kind` comes from a closed set, so a window holds a bounded number of
-- rows whatever is sent. The sample is the first denial of the window that reached this row.
CREATE TABLE authd.audit_rollup (
  window_start  timestamptz NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('unknown', 'policy', 'locked_out', 'bad_request', 'overloaded', 'proof_failed')),
  realm         text NOT NULL,
  count         bigint NOT NULL CHECK (count > 0),
  first_at      timestamptz NOT NULL,
  last_at       timestamptz NOT NULL,
  sample_authid text,
  sample_realm  text,
  sample_method text,
  sample_peer   text,
  sample_reason text,
  PRIMARY KEY (window_start, kind, realm)
);
CREATE INDEX audit_rollup_last ON authd.audit_rollup (last_at);

-- Keys the service generates itself and every instance must share (e.g. the keyed hash that puts
-- unknown accounts into throttle buckets). Never leaves the database, never logged.
CREATE TABLE authd.service_secrets (
  name       text PRIMARY KEY,
  value      bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
