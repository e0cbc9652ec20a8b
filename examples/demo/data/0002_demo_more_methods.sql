-- More demo logins: WAMP-SCRAM for alice and bob (same passwords as their tickets), a cryptosign
-- key for alice, and anonymous guests. SCRAM fields come from `wamp-authd hash-password`.
INSERT INTO authd.credentials (user_id, method, data)
SELECT u.id, 'scram', c.data::jsonb
  FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
  JOIN (VALUES
    ('alice', '{"kdf":"argon2id-13","salt":"7b41d7ce5fc49bf5a883d1c4539e13ee","iterations":4096,"memory":512,"stored_key":"a9e5fa4441d196f5ad6ae1f984c53a3dbc95ce763e7213e423f2198328576157","server_key":"adf02384fc931250d9967da247b32d42d57f563ab0ddbd7ffa9adcd81525d194"}'),
    ('bob',   '{"kdf":"argon2id-13","salt":"29ce541611b7e85ef044f3843cdbc13c","iterations":4096,"memory":512,"stored_key":"5f3617118d14596912f2e4b76f1d8955d29a69391891a68e9f42adf6d7cdd65e","server_key":"e3348941d5f3b5e5a1d1f98cc91303f86341a2997f9b9466292bded239fba97b"}')
  ) AS c(authid, data) ON c.authid = u.authid
 WHERE r.name = 'demo';

-- The private key (seed) of this demo key is printed by `npm run dev`: it is public, demo only.
INSERT INTO authd.credentials (user_id, method, lookup, label)
SELECT u.id, 'cryptosign', '883aa26388eded866a57c6e0d12ad193c58c239edcd44d9fc2cd94c40c4d1582', 'demo laptop'
  FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
 WHERE r.name = 'demo' AND u.authid = 'alice';

UPDATE authd.realms SET anonymous_allowed = true, anonymous_role = 'guest', anonymous_extra = '{"note": "anonymous demo guest"}'
 WHERE name = 'demo';
