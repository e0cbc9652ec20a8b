-- Every change to the auth data, from the CLI or from hand-written SQL, notifies running instances.
-- Payload: JSON {table, op, realm_id, role_id?, user_id?, authid?} so instances can reload and revoke.
CREATE FUNCTION authd.notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
    payload := payload || jsonb_build_object('role_id', rec.role_id);
  ELSIF TG_TABLE_NAME = 'users' THEN
    payload := payload || jsonb_build_object('realm_id', rec.realm_id, 'user_id', rec.id, 'authid', rec.authid);
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
  END IF;
  PERFORM pg_notify('authd_change', payload::text);
  RETURN NULL;
END $$;

CREATE TRIGGER realms_notify AFTER INSERT OR UPDATE OR DELETE ON authd.realms FOR EACH ROW EXECUTE FUNCTION authd.notify_change();
CREATE TRIGGER roles_notify AFTER INSERT OR UPDATE OR DELETE ON authd.roles FOR EACH ROW EXECUTE FUNCTION authd.notify_change();
CREATE TRIGGER permissions_notify AFTER INSERT OR UPDATE OR DELETE ON authd.permissions FOR EACH ROW EXECUTE FUNCTION authd.notify_change();
CREATE TRIGGER users_notify AFTER INSERT OR UPDATE OR DELETE ON authd.users FOR EACH ROW EXECUTE FUNCTION authd.notify_change();
CREATE TRIGGER credentials_notify AFTER INSERT OR UPDATE OR DELETE ON authd.credentials FOR EACH ROW EXECUTE FUNCTION authd.notify_change();
