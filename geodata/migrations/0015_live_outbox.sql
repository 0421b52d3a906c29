-- Live messages owed to gridwatch:live. A worker writes the messages of a batch here in the transaction
-- that made them true and deletes the row once they are published; a worker killed between its commit
-- and its publish leaves the row behind, and the next start publishes it. `key` marks the row published
-- in Redis (atomically with the PUBLISH), so a row published just before a crash is not published again.
CREATE TABLE live_outbox (
    id         bigserial PRIMARY KEY,
    key        uuid NOT NULL DEFAULT gen_random_uuid(),
    payloads   text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
