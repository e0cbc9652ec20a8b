-- Demo data, applied by `wamp-authd migrate --data-dir examples/demo/data`.
-- This is what an operator's own data migration looks like: plain SQL, no plaintext passwords
-- (the PHC strings come from `wamp-authd hash-password`).
INSERT INTO authd.realms (name) VALUES ('demo');

INSERT INTO authd.roles (realm_id, name)
SELECT id, r.name FROM authd.realms, (VALUES ('user'), ('guest')) AS r(name) WHERE realms.name = 'demo';

-- user: everything under com.example., caller disclosed; guest: may only subscribe to com.example.public.
INSERT INTO authd.permissions (role_id, uri, match, allow_call, allow_register, allow_publish, allow_subscribe, disclose_caller)
SELECT ro.id, 'com.example.', 'prefix', true, true, true, true, true
  FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id WHERE r.name = 'demo' AND ro.name = 'user';
INSERT INTO authd.permissions (role_id, uri, match, allow_subscribe)
SELECT ro.id, 'com.example.public.', 'prefix', true
  FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id WHERE r.name = 'demo' AND ro.name = 'guest';

INSERT INTO authd.users (realm_id, authid, role, extra, disabled)
SELECT r.id, u.authid, u.role, u.extra::jsonb, u.disabled
  FROM authd.realms r,
       (VALUES ('alice', 'user', '{"name": "Alice"}', false),
               ('bob', 'guest', '{"name": "Bob"}', false),
               ('carol', 'user', '{}', true)) AS u(authid, role, extra, disabled)
 WHERE r.name = 'demo';

-- Tickets: alice-secret, bob-secret, carol-secret (argon2id, OWASP parameters).
INSERT INTO authd.credentials (user_id, method, data)
SELECT u.id, 'ticket', jsonb_build_object('phc', c.phc)
  FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
  JOIN (VALUES
    ('alice', '$argon2id$v=19$m=19456,p=1,t=2$6RlYijnSL53KgP2M3IApBg$crUt0tgepX4qmMaxIUXQ4vXf2kCtx/4OOjIY7m+ohwE'),
    ('bob',   '$argon2id$v=19$m=19456,p=1,t=2$XS0/7NRE5Co1E8I+542FDg$g6CHM2ELksFaNXHps2+3u5jQlYERum7DXgPjuGckcjs'),
    ('carol', '$argon2id$v=19$m=19456,p=1,t=2$Ebpe/zcbzQ1rVnsvdiJanA$C9XK6k9UhF8kCDpv0KeALA+jlvH4iTX8tzs62gpox0Y')
  ) AS c(authid, phc) ON c.authid = u.authid
 WHERE r.name = 'demo';
