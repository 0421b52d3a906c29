-- The key camera workers sign their `recheck` messages with (HMAC-SHA256, geodata/rechecks.py), and
-- ingest checks them with (issue 12: every request from the bus is hostile until checked). A `recheck
-- present` reopens a resolved case, so it must come from a camera worker, not from whoever can XADD to
-- the incident stream: the key lives here, read at start by the processes that hold a database
-- connection (camera workers, ingest), out of reach of a writer that has only Redis.
-- Made once by the database's own random source; never shown, logged or put on the bus.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE bus_signing_key (
    -- One key per purpose; `recheck` is the only one so far.
    purpose    text PRIMARY KEY CHECK (purpose IN ('recheck')),
    key        bytea NOT NULL CHECK (length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO bus_signing_key (purpose, key) VALUES ('recheck', gen_random_bytes(32));
