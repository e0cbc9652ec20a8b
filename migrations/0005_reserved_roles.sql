-- Role names the store may never hand out: Crossbar's built-in `trusted`, and the service's own static
-- role(s), which wamp-authd records here when it joins the router (it reads them from its WELCOME).
-- A session with the service's role could register the authenticator and answer `trusted` for anyone.
CREATE TABLE authd.reserved_roles (
  name      text PRIMARY KEY,
  reason    text NOT NULL,
  noted_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO authd.reserved_roles (name, reason) VALUES ('trusted', 'Crossbar''s built-in allow-everything role');

-- Refuses a reserved name in every column that assigns a role: roles.name, users.role,
-- realms.anonymous_role. Rows that existed before a name was reserved stay (and are refused at login).
CREATE FUNCTION authd.refuse_reserved_role() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  candidate text;
  why text;
BEGIN
  -- One assignment per table: plpgsql resolves a field only when its branch runs.
  IF TG_TABLE_NAME = 'roles' THEN
    candidate := NEW.name;
  ELSIF TG_TABLE_NAME = 'users' THEN
    candidate := NEW.role;
  ELSE
    candidate := NEW.anonymous_role;
  END IF;
  IF candidate IS NOT NULL THEN
    SELECT reason INTO why FROM authd.reserved_roles WHERE name = candidate;
    IF FOUND THEN
      RAISE EXCEPTION 'role "%" is reserved (%) and cannot be assigned from the store', candidate, why
        USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER roles_reserved BEFORE INSERT OR UPDATE OF name ON authd.roles
  FOR EACH ROW EXECUTE FUNCTION authd.refuse_reserved_role();
CREATE TRIGGER users_reserved BEFORE INSERT OR UPDATE OF role ON authd.users
  FOR EACH ROW EXECUTE FUNCTION authd.refuse_reserved_role();
CREATE TRIGGER realms_reserved BEFORE INSERT OR UPDATE OF anonymous_role ON authd.realms
  FOR EACH ROW EXECUTE FUNCTION authd.refuse_reserved_role();
