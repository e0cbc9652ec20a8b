-- Authorization v2 in the store: groups (nested, no cycles), rules of groups and of users,
-- explicit denials, time windows and template URIs; change notifications that name the user
-- (effective realm and authid) or the group a change touches, so instances update one user or one
-- group instead of reloading every realm.

CREATE TABLE authd.groups (
  id          serial PRIMARY KEY,
  realm_id    integer NOT NULL REFERENCES authd.realms(id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (name ~ '^[0-9a-z_.-]+$' AND length(name) <= 255),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (realm_id, name)
);

-- A user in a group (the group's rules, and those of every group containing it, apply to the user).
CREATE TABLE authd.group_members (
  group_id    integer NOT NULL REFERENCES authd.groups(id) ON DELETE CASCADE,
  user_id     bigint NOT NULL REFERENCES authd.users(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON authd.group_members (user_id);

-- A group inside a group: the members of `subgroup_id` are members of `group_id` too.
CREATE TABLE authd.group_subgroups (
  group_id    integer NOT NULL REFERENCES authd.groups(id) ON DELETE CASCADE,
  subgroup_id integer NOT NULL REFERENCES authd.groups(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, subgroup_id),
  CHECK (group_id <> subgroup_id)
);
CREATE INDEX group_subgroups_by_subgroup ON authd.group_subgroups (subgroup_id);

-- Rules belong to exactly one of a role, a group or a user.
ALTER TABLE authd.permissions
  ALTER COLUMN role_id DROP NOT NULL,
  ADD COLUMN group_id integer REFERENCES authd.groups(id) ON DELETE CASCADE,
  ADD COLUMN user_id bigint REFERENCES authd.users(id) ON DELETE CASCADE,
  ADD COLUMN deny_call      boolean NOT NULL DEFAULT false,
  ADD COLUMN deny_register  boolean NOT NULL DEFAULT false,
  ADD COLUMN deny_publish   boolean NOT NULL DEFAULT false,
  ADD COLUMN deny_subscribe boolean NOT NULL DEFAULT false,
  -- The rule exists in [valid_from, valid_until); NULL: unbounded on that side.
  ADD COLUMN valid_from  timestamptz,
  ADD COLUMN valid_until timestamptz,
  ADD CONSTRAINT permissions_one_owner CHECK (num_nonnulls(role_id, group_id, user_id) = 1),
  ADD CONSTRAINT permissions_allow_or_deny CHECK (
    NOT (allow_call AND deny_call) AND NOT (allow_register AND deny_register)
    AND NOT (allow_publish AND deny_publish) AND NOT (allow_subscribe AND deny_subscribe)),
  ADD CONSTRAINT permissions_window CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until),
  -- Crossbar caches per (realm, role, uri, action): only a role's rules can be answered for the whole role.
  ADD CONSTRAINT permissions_cache_role_only CHECK (role_id IS NOT NULL OR NOT cache),
  ADD CONSTRAINT permissions_group_rule UNIQUE (group_id, uri, match),
  ADD CONSTRAINT permissions_user_rule UNIQUE (user_id, uri, match);

-- Placeholders: {authid}, {realm}, {role}, {extra.NAME}; any other brace is refused. Rows written
-- before this migration are not re-checked (the service never matches an invalid template).
ALTER TABLE authd.permissions ADD CONSTRAINT permissions_template
  CHECK (regexp_replace(uri, '\{(authid|realm|role|extra\.[A-Za-z0-9_-]{1,64})\}', '', 'g') !~ '[{}]') NOT VALID;

-- Finding a session's user by its effective identity (overrides included) without a scan.
CREATE INDEX users_by_authid_override ON authd.users (authid_override) WHERE authid_override IS NOT NULL;
CREATE INDEX users_by_realm_override ON authd.users (realm_override, authid) WHERE realm_override IS NOT NULL;

CREATE TRIGGER groups_touch BEFORE UPDATE ON authd.groups FOR EACH ROW EXECUTE FUNCTION authd.touch_updated_at();

-- Members and subgroups belong to the group's realm.
CREATE FUNCTION authd.check_group_realm() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  group_realm integer;
  member_realm integer;
BEGIN
  SELECT realm_id INTO group_realm FROM authd.groups WHERE id = NEW.group_id;
  IF TG_TABLE_NAME = 'group_members' THEN
    SELECT realm_id INTO member_realm FROM authd.users WHERE id = NEW.user_id;
  ELSE
    SELECT realm_id INTO member_realm FROM authd.groups WHERE id = NEW.subgroup_id;
  END IF;
  IF group_realm IS DISTINCT FROM member_realm THEN
    RAISE EXCEPTION 'a group''s members and subgroups must be in the group''s realm' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER group_members_realm BEFORE INSERT OR UPDATE ON authd.group_members
  FOR EACH ROW EXECUTE FUNCTION authd.check_group_realm();
CREATE TRIGGER group_subgroups_realm BEFORE INSERT OR UPDATE ON authd.group_subgroups
  FOR EACH ROW EXECUTE FUNCTION authd.check_group_realm();

-- Refuses a subgroup edge that would close a cycle (A in B in ... in A), whoever writes it. The
-- transaction-wide lock serialises edge changes, so two transactions cannot each add half a cycle.
CREATE FUNCTION authd.refuse_group_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  outer_name text;
  inner_name text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('authd.group_subgroups'));
  IF NEW.group_id = NEW.subgroup_id OR EXISTS (
    WITH RECURSIVE inside(id) AS (
      SELECT s.subgroup_id FROM authd.group_subgroups s WHERE s.group_id = NEW.subgroup_id
      UNION
      SELECT s.subgroup_id FROM authd.group_subgroups s JOIN inside i ON s.group_id = i.id
    )
    SELECT 1 FROM inside WHERE id = NEW.group_id
  ) THEN
    SELECT name INTO outer_name FROM authd.groups WHERE id = NEW.group_id;
    SELECT name INTO inner_name FROM authd.groups WHERE id = NEW.subgroup_id;
    RAISE EXCEPTION 'group cycle: "%" cannot contain "%", which already contains "%" (directly or through other groups)',
      outer_name, inner_name, outer_name USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER group_subgroups_no_cycle BEFORE INSERT OR UPDATE ON authd.group_subgroups
  FOR EACH ROW EXECUTE FUNCTION authd.refuse_group_cycle();

-- The identity a user's sessions have: realm and authid after the overrides.
CREATE FUNCTION authd.user_identity(uid bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('realm', COALESCE(u.realm_override, r.name), 'authid', COALESCE(u.authid_override, u.authid))
    FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id WHERE u.id = uid
$$;

-- Extends 0002's payloads. New keys:
--   permissions: group_id, user_id; for a user's rule the user's session identity (realm, authid)
--   and the rule itself (`rule`; only its id for a DELETE); for an owner changed by an UPDATE the
--   old owner (old_role_id, old_group_id, old_user_id, old_realm, old_authid);
--   users: realm, authid (the identity after the change) and old_realm, old_authid (before);
--   groups: realm_id, group_id, group; group_members: group_id, user_id, realm, authid;
--   group_subgroups: group_id, subgroup_id.
CREATE OR REPLACE FUNCTION authd.notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  rec record;
  payload jsonb;
BEGIN
  rec := COALESCE(NEW, OLD);
  payload := jsonb_build_object('table', TG_TABLE_NAME, 'op', TG_OP);
  IF TG_TABLE_NAME = 'realms' THEN
    payload := payload || jsonb_build_object('realm_id', rec.id, 'realm', rec.name);
  ELSIF TG_TABLE_NAME = 'roles' THEN
    payload := payload || jsonb_build_object('realm_id', rec.realm_id, 'role_id', rec.id, 'role', rec.name);
  ELSIF TG_TABLE_NAME = 'permissions' THEN
    payload := payload || jsonb_build_object('role_id', rec.role_id, 'group_id', rec.group_id, 'user_id', rec.user_id);
    IF rec.user_id IS NOT NULL THEN
      payload := payload || COALESCE(authd.user_identity(rec.user_id), '{}'::jsonb);
      -- A user's rule travels with the notification: instances apply it without reading the user again.
      IF TG_OP = 'DELETE' THEN
        payload := payload || jsonb_build_object('rule', jsonb_build_object('id', rec.id::text));
      ELSE
        payload := payload || jsonb_build_object('rule', jsonb_build_object('id', rec.id::text, 'uri', rec.uri, 'match', rec.match,
          'allow_call', rec.allow_call, 'allow_register', rec.allow_register, 'allow_publish', rec.allow_publish, 'allow_subscribe', rec.allow_subscribe,
          'deny_call', rec.deny_call, 'deny_register', rec.deny_register, 'deny_publish', rec.deny_publish, 'deny_subscribe', rec.deny_subscribe,
          'disclose_caller', rec.disclose_caller, 'disclose_publisher', rec.disclose_publisher, 'cache', rec.cache,
          'valid_from', (extract(epoch FROM rec.valid_from) * 1000)::float8, 'valid_until', (extract(epoch FROM rec.valid_until) * 1000)::float8));
      END IF;
    END IF;
    -- An UPDATE that moves a rule to another owner changes the old owner's rules too.
    IF TG_OP = 'UPDATE' AND (OLD.role_id IS DISTINCT FROM NEW.role_id OR OLD.group_id IS DISTINCT FROM NEW.group_id
                             OR OLD.user_id IS DISTINCT FROM NEW.user_id) THEN
      payload := payload || jsonb_build_object('old_role_id', OLD.role_id, 'old_group_id', OLD.group_id, 'old_user_id', OLD.user_id);
      IF OLD.user_id IS NOT NULL THEN
        payload := payload || COALESCE((SELECT jsonb_build_object('old_realm', i->>'realm', 'old_authid', i->>'authid')
                                          FROM authd.user_identity(OLD.user_id) i), '{}'::jsonb);
      END IF;
    END IF;
  ELSIF TG_TABLE_NAME = 'users' THEN
    payload := payload || jsonb_build_object('realm_id', rec.realm_id, 'user_id', rec.id, 'store_authid', rec.authid);
    IF TG_OP <> 'DELETE' THEN
      payload := payload || jsonb_build_object('realm', COALESCE(NEW.realm_override, (SELECT name FROM authd.realms WHERE id = NEW.realm_id)),
                                               'authid', COALESCE(NEW.authid_override, NEW.authid));
    END IF;
    IF TG_OP <> 'INSERT' THEN
      payload := payload || jsonb_build_object('old_realm', COALESCE(OLD.realm_override, (SELECT name FROM authd.realms WHERE id = OLD.realm_id)),
                                               'old_authid', COALESCE(OLD.authid_override, OLD.authid));
    END IF;
    -- Revocation: the old identity's live sessions must go when the user is removed, disabled,
    -- or its identity (role, authid, overrides) changes.
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (
         (NEW.disabled AND NOT OLD.disabled)
         OR NEW.role IS DISTINCT FROM OLD.role
         OR NEW.authid IS DISTINCT FROM OLD.authid
         OR NEW.authid_override IS DISTINCT FROM OLD.authid_override
         OR NEW.realm_override IS DISTINCT FROM OLD.realm_override)) THEN
      payload := payload || jsonb_build_object('revoke', true,
        'kill_authid', COALESCE(OLD.authid_override, OLD.authid),
        'kill_realm', COALESCE(OLD.realm_override, (SELECT name FROM authd.realms WHERE id = OLD.realm_id)));
    END IF;
  ELSIF TG_TABLE_NAME = 'credentials' THEN
    payload := payload || jsonb_build_object('user_id', rec.user_id, 'method', rec.method);
    -- A changed or removed credential ends the sessions it opened; a new one does not, and neither
    -- does wamp-authd's own rehash-on-login (same password, new parameters), which sets authd.rehash.
    IF TG_OP <> 'INSERT' AND COALESCE(current_setting('authd.rehash', true), '') <> 'on' THEN
      payload := payload || COALESCE((
        SELECT jsonb_build_object('revoke', true,
                 'kill_authid', COALESCE(u.authid_override, u.authid),
                 'kill_realm', COALESCE(u.realm_override, r.name))
          FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
         WHERE u.id = rec.user_id), '{}'::jsonb);
    END IF;
  ELSIF TG_TABLE_NAME = 'groups' THEN
    payload := payload || jsonb_build_object('realm_id', rec.realm_id, 'group_id', rec.id, 'group', rec.name);
  ELSIF TG_TABLE_NAME = 'group_members' THEN
    payload := payload || jsonb_build_object('group_id', rec.group_id, 'user_id', rec.user_id)
                       || COALESCE(authd.user_identity(rec.user_id), '{}'::jsonb);
  ELSIF TG_TABLE_NAME = 'group_subgroups' THEN
    payload := payload || jsonb_build_object('group_id', rec.group_id, 'subgroup_id', rec.subgroup_id);
  END IF;
  PERFORM pg_notify('authd_change', payload::text);
  RETURN NULL;
END $$;

CREATE TRIGGER groups_notify AFTER INSERT OR UPDATE OR DELETE ON authd.groups FOR EACH ROW EXECUTE FUNCTION authd.notify_change();
CREATE TRIGGER group_members_notify AFTER INSERT OR UPDATE OR DELETE ON authd.group_members FOR EACH ROW EXECUTE FUNCTION authd.notify_change();
CREATE TRIGGER group_subgroups_notify AFTER INSERT OR UPDATE OR DELETE ON authd.group_subgroups FOR EACH ROW EXECUTE FUNCTION authd.notify_change();
