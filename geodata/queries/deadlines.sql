-- The deadline worker (workers/deadlines.py): which clocked cases owe a mark now.

-- name: deadline_now
-- One clock for every deadline worker: the database's.
SELECT clock_timestamp() AS now;

-- name: deadline_claim
-- Open clocked cases owing a warning, an overdue mark or an escalation at %(now)s, earliest due first,
-- locked for this transaction; rows another worker holds are skipped, not waited for.
-- The first condition bounds due_at so incident_due_idx narrows the scan: a warning falls at most
-- a fifth of the longest deadline before due_at. The rest mirrors grid.deadlines.pending_actions,
-- which stays the authority (the worker re-checks each claimed row with it).
SELECT i.id, i.status, i.level, i.dispatched_at, i.due_at, i.warned_at, i.overdue_at, m.escalation
FROM incident i
JOIN matter m ON m.code = i.matter_code
WHERE i.status IN ('dispatched', 'accepted', 'in_progress', 'returned')
  AND i.due_at <= %(now)s + (SELECT max(deadline_hours) FROM matter) * 0.2 * interval '1 hour'
  AND i.dispatched_at IS NOT NULL
  AND NOT (i.id = ANY(%(skip)s::uuid[]))
  AND (
        (i.warned_at IS NULL AND i.overdue_at IS NULL AND i.due_at > %(now)s
         AND i.dispatched_at + (i.due_at - i.dispatched_at) * 0.8 <= %(now)s)
     OR (i.overdue_at IS NULL AND i.due_at <= %(now)s)
     OR (i.due_at <= %(now)s
         -- rungs of the matter's ladder reached so far < rungs owed by now (one at due, one per period)
         AND (SELECT count(*) FROM unnest(m.escalation) AS r(rung)
              WHERE array_position(ARRAY['grid', 'community', 'street', 'district'], r.rung)
                    <= array_position(ARRAY['grid', 'community', 'street', 'district'], i.level))
             < least(cardinality(m.escalation),
                     1 + floor(extract(epoch FROM %(now)s - i.due_at)
                               / nullif(extract(epoch FROM i.due_at - i.dispatched_at), 0)))
        )
  )
ORDER BY i.due_at, i.id
LIMIT %(limit)s
FOR UPDATE OF i SKIP LOCKED;
