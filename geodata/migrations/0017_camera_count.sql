-- Counts of a camera per time bucket (issue 14): people and vehicles present in each zone at the
-- bucket's peak, and crossings per counting line and direction. Written only by the camera worker
-- (geodata/camera_counts.py), one transaction per camera and bucket.
CREATE TABLE camera_count (
    -- No foreign key: counts are statistics that outlive a camera taken off the register, and a
    -- worker finishing a bucket of a camera just deleted must not fail its whole write.
    camera_code  text NOT NULL,
    bucket_start timestamptz NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('zone', 'line')),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    class        text NOT NULL CHECK (class IN ('person', 'vehicle')),
    -- Lines count each direction apart; a zone's peak has none.
    direction    text CHECK (direction IN ('in', 'out')),
    count        integer NOT NULL CHECK (count >= 0),
    CONSTRAINT camera_count_direction_of_lines CHECK ((kind = 'line') = (direction IS NOT NULL)),
    -- One row per bucket and series, so writing a bucket again (partial counts, a retry) is an upsert.
    -- Its leading columns also serve the one read there is, a camera's series over a time range, so no
    -- second index is paid for on every write.
    CONSTRAINT camera_count_key UNIQUE NULLS NOT DISTINCT (camera_code, bucket_start, kind, name, class, direction)
);
