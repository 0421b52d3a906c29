-- API keys of Open311 clients (geodata/api_keys.py); only hashes are stored.

-- name: api_key_insert
INSERT INTO api_key (name, key_hash) VALUES (%(name)s, %(key_hash)s)
RETURNING id, name, created_at, revoked_at;

-- name: api_key_by_hash
SELECT id, name, created_at, revoked_at FROM api_key WHERE key_hash = %(key_hash)s;

-- name: api_key_revoke
UPDATE api_key SET revoked_at = now() WHERE name = %(name)s AND revoked_at IS NULL
RETURNING id, name, created_at, revoked_at;

-- name: api_key_list
SELECT id, name, created_at, revoked_at FROM api_key ORDER BY name, created_at;
