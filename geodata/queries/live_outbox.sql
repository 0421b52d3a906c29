-- The live outbox (migration 0015): one row per committed batch of live messages, until published.

-- name: live_outbox_stage
-- A binary parameter: psycopg quoting 500 JSON texts into an array literal cost ingest 300 ms a batch.
INSERT INTO live_outbox (payloads) VALUES (%(payloads)b) RETURNING id, key;

-- name: live_outbox_lazy_commit
-- For the delete of published rows: one lost in a crash is only offered again, and its Redis marker
-- refuses it, so the commit need not wait for the disk.
SET LOCAL synchronous_commit = off;

-- name: live_outbox_done
DELETE FROM live_outbox WHERE id = ANY(%(ids)s);

-- name: live_outbox_left
-- Rows some worker committed and did not get to publish (it died, or Redis was away), oldest first.
SELECT id, key, payloads FROM live_outbox ORDER BY id LIMIT %(limit)s;
