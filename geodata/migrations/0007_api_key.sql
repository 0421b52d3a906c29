-- API keys of Open311 clients. Only a SHA-256 hash of each key is kept: the key itself is shown
-- once, when it is created (`gridwatch apikey create NAME`).

CREATE TABLE api_key (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (length(btrim(name)) > 0),
    key_hash   text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);
-- One live key per client name; a revoked key's name may be reused.
CREATE UNIQUE INDEX api_key_name_live_idx ON api_key (name) WHERE revoked_at IS NULL;
