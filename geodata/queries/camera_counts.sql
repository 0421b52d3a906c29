-- Camera counts per time bucket (issue 14, migration 0017): the camera worker writes, /cameras reads.

-- name: camera_count_upsert
-- One bucket of one camera in one statement. Counts of a bucket only grow while it is open (a peak, a
-- sum of crossings), so a row keeps the larger value: a late partial write or a retried one never
-- lowers what a later write already stored.
INSERT INTO camera_count (camera_code, bucket_start, kind, name, class, direction, count)
SELECT %(camera)s, %(bucket_start)s, v.kind, v.name, v.class, v.direction, v.count
FROM unnest(%(kinds)s::text[], %(names)s::text[], %(classes)s::text[], %(directions)s::text[],
            %(counts)s::int[]) AS v(kind, name, class, direction, count)
ON CONFLICT ON CONSTRAINT camera_count_key DO UPDATE SET count = greatest(camera_count.count, EXCLUDED.count);

-- name: camera_count_bucket
-- What is stored of one bucket: a camera restarted in the middle of a bucket counts on from here.
SELECT kind, name, class, direction, count FROM camera_count
WHERE camera_code = %(camera)s AND bucket_start = %(bucket_start)s;

-- name: camera_count_series
-- A camera's counts over [since, until), oldest first (the leading columns of camera_count_key).
SELECT bucket_start, kind, name, class, direction, count FROM camera_count
WHERE camera_code = %(camera)s AND bucket_start >= %(since)s AND bucket_start < %(until)s
ORDER BY bucket_start, kind, name, class, direction
LIMIT %(limit)s;
