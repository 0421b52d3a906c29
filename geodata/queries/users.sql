-- Accounts of the dashboard and the tablet API.

-- name: user_insert
INSERT INTO app_user (username, password_hash, role, scope_code, worker_code)
VALUES (%(username)s, %(password_hash)s, %(role)s, %(scope_code)s, %(worker_code)s)
RETURNING id, username, role, scope_code, worker_code, disabled, created_at;

-- name: user_by_name
SELECT id, username, password_hash, role, scope_code, worker_code, disabled, created_at
FROM app_user WHERE username = %(username)s;

-- name: user_list
SELECT id, username, role, scope_code, worker_code, disabled, created_at
FROM app_user ORDER BY role, username;

-- name: user_set_hash
UPDATE app_user SET password_hash = %(password_hash)s WHERE id = %(id)s;

-- name: scope_exists
SELECT EXISTS (SELECT 1 FROM street WHERE code = %(code)s)
    OR EXISTS (SELECT 1 FROM community WHERE code = %(code)s)
    OR EXISTS (SELECT 1 FROM district WHERE code = %(code)s) AS found;

-- name: worker_exists
SELECT EXISTS (SELECT 1 FROM grid_worker WHERE code = %(code)s) AS found;

-- name: user_by_id
-- The account as stored now, read on every request of a session or bearer token (primary key).
SELECT id, username, role, scope_code, worker_code, disabled, created_at
FROM app_user WHERE id = %(id)s;

-- name: user_set_disabled
UPDATE app_user SET disabled = %(disabled)s WHERE username = %(username)s
RETURNING id, username, role, scope_code, worker_code, disabled, created_at;
