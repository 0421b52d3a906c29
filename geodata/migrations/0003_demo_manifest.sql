-- What the demo seeder planted (hot areas, the rising trend, accounts), for tests and analysis to read.

CREATE TABLE demo_manifest (
    key        text PRIMARY KEY,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
