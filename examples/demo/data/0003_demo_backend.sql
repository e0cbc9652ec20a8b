-- A demo backend: user demo-backend (role backend, ticket backend-secret) registers demo.hello and
-- demo.add2 (`npm run dev` starts it: devstack/demoCallee.ts). Users may call both, guests (bob,
-- anonymous) only demo.hello; only the backend role may register under demo., so no client can
-- take the procedures over.
INSERT INTO authd.roles (realm_id, name)
SELECT id, 'backend' FROM authd.realms WHERE name = 'demo';

INSERT INTO authd.permissions (role_id, uri, match, allow_register)
SELECT ro.id, 'demo.', 'prefix', true
  FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id WHERE r.name = 'demo' AND ro.name = 'backend';
INSERT INTO authd.permissions (role_id, uri, match, allow_call)
SELECT ro.id, 'demo.', 'prefix', true
  FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id WHERE r.name = 'demo' AND ro.name = 'user';
INSERT INTO authd.permissions (role_id, uri, match, allow_call)
SELECT ro.id, 'demo.hello', 'exact', true
  FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id WHERE r.name = 'demo' AND ro.name = 'guest';

INSERT INTO authd.users (realm_id, authid, role, extra)
SELECT id, 'demo-backend', 'backend', '{"name": "demo backend"}'::jsonb FROM authd.realms WHERE name = 'demo';

-- Ticket: backend-secret (argon2id, OWASP parameters, from `wamp-authd hash-password`).
INSERT INTO authd.credentials (user_id, method, data)
SELECT u.id, 'ticket', '{"phc": "$argon2id$v=19$m=19456,p=1,t=2$poTURbMLYk90WW1SmpL+YQ$Q/eLJ4xeHw+5CODgqcbSDiqImQF5MPke3fYTmmVsE70"}'::jsonb
  FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
 WHERE r.name = 'demo' AND u.authid = 'demo-backend';
