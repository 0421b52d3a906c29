-- Analysis and early warning (分析研判): results of each refresh, stamped with computed_at, and the
-- early-warning list. Results of old runs are pruned by the analysis worker (ON DELETE CASCADE);
-- warnings outlive the run that raised them.

CREATE TABLE analysis_run (
    id          bigserial PRIMARY KEY,
    computed_at timestamptz NOT NULL DEFAULT now(),
    -- The data window the run looked at, [window_start, window_end).
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    params      jsonb NOT NULL DEFAULT '{}'::jsonb,
    seconds     double precision NOT NULL DEFAULT 0 CHECK (seconds >= 0),
    summary     jsonb NOT NULL DEFAULT '{}'::jsonb,
    CHECK (window_end > window_start)
);
CREATE INDEX analysis_run_computed_idx ON analysis_run (computed_at DESC);

-- Gi* per cell: 'square200' cells are ids of a 200 m square lattice over UTM 50N (cell = id as
-- text), 'sub_grid' cells are sub-grid codes. `value` is the incident count of a square, and
-- incidents per km² of a sub-grid (sub-grids differ in size); z, p from Gi* with binary weights,
-- q the Benjamini-Hochberg adjusted p over the lattice.
CREATE TABLE hotspot_cell (
    run_id      bigint NOT NULL REFERENCES analysis_run (id) ON DELETE CASCADE,
    lattice     text NOT NULL CHECK (lattice IN ('square200', 'sub_grid')),
    cell        text NOT NULL,
    family      text NOT NULL CHECK (family IN ('crime', 'dispute', 'hazard', 'maintenance', 'all')),
    window_days integer NOT NULL CHECK (window_days > 0),
    value       double precision NOT NULL,
    z           double precision NOT NULL,
    p           double precision NOT NULL,
    q           double precision,
    class       text NOT NULL CHECK (class IN ('hot_99', 'hot_95', 'hot_90', 'not_significant',
                                               'cold_90', 'cold_95', 'cold_99')),
    geom        geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (run_id, lattice, family, window_days, cell)
);
CREATE INDEX hotspot_cell_geom_idx ON hotspot_cell USING gist (geom);

CREATE TABLE emerging_cell (
    run_id    bigint NOT NULL REFERENCES analysis_run (id) ON DELETE CASCADE,
    lattice   text NOT NULL CHECK (lattice IN ('square200', 'sub_grid')),
    cell      text NOT NULL,
    family    text NOT NULL CHECK (family IN ('crime', 'dispute', 'hazard', 'maintenance', 'all')),
    pattern   text NOT NULL,
    trend_z   double precision NOT NULL,
    trend_p   double precision NOT NULL,
    final_z   double precision NOT NULL,
    hot_bins  integer NOT NULL,
    cold_bins integer NOT NULL,
    geom      geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (run_id, lattice, family, cell)
);
CREATE INDEX emerging_cell_geom_idx ON emerging_cell USING gist (geom);

-- Indicators of the run's window per level (worker, sub_grid, community, street).
CREATE TABLE indicator_snapshot (
    run_id            bigint NOT NULL REFERENCES analysis_run (id) ON DELETE CASCADE,
    level             text NOT NULL CHECK (level IN ('worker', 'sub_grid', 'community', 'street')),
    code              text NOT NULL,
    period_start      timestamptz NOT NULL,
    period_end        timestamptz NOT NULL,
    incidents         integer NOT NULL,
    closed            integer NOT NULL,
    due               integer NOT NULL,
    on_time           integer NOT NULL,
    on_time_rate      double precision,
    mean_dispatch_min double precision,
    mean_accept_min   double precision,
    mean_resolve_min  double precision,
    returned          integer NOT NULL,
    escalated         integer NOT NULL,
    PRIMARY KEY (run_id, level, code)
);

-- Red/black ranking (红黑榜): best ("red") and worst ("black") by on-time closure rate. `within` is
-- the parent code the ranking is taken in ('440310' for district-wide).
CREATE TABLE ranking (
    run_id       bigint NOT NULL REFERENCES analysis_run (id) ON DELETE CASCADE,
    level        text NOT NULL CHECK (level IN ('worker', 'sub_grid', 'community', 'street')),
    within_code  text NOT NULL,
    code         text NOT NULL,
    list         text NOT NULL CHECK (list IN ('red', 'black')),
    rank         integer NOT NULL CHECK (rank >= 1),
    on_time_rate double precision NOT NULL,
    due          integer NOT NULL,
    incidents    integer NOT NULL,
    PRIMARY KEY (run_id, level, within_code, list, rank)
);

-- Camera availability per CST day, from camera.health at each refresh (no health history exists
-- yet): the last snapshot of a day stands for that day.
CREATE TABLE camera_availability_day (
    day        date PRIMARY KEY,
    cameras    integer NOT NULL,
    online     integer NOT NULL,
    degraded   integer NOT NULL,
    offline    integer NOT NULL,
    unknown    integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Early warnings. dedup_key makes a refresh idempotent: the same rising matter in the same CST week,
-- the same repeat place, or the same blind sub-grid in the same week is one warning, updated in place.
CREATE TABLE early_warning (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('rising', 'repeat', 'camera_blind')),
    dedup_key     text NOT NULL UNIQUE,
    matter_code   text REFERENCES matter (code),
    area_level    text NOT NULL CHECK (area_level IN ('sub_grid', 'community', 'street', 'district')),
    area_code     text NOT NULL,
    sub_grid_code text,
    community_code text,
    street_code   text,
    lon           double precision NOT NULL,
    lat           double precision NOT NULL,
    geom          geometry(Point, 4326) NOT NULL,
    details       jsonb NOT NULL DEFAULT '{}'::jsonb,
    score         double precision,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    run_id        bigint REFERENCES analysis_run (id) ON DELETE SET NULL,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'case_made', 'dismissed')),
    status_at     timestamptz,
    status_by     text,
    -- The IncidentMessage event_id put on the stream; the ingest worker uses it as the incident id.
    incident_id   uuid,
    CHECK ((status = 'case_made') = (incident_id IS NOT NULL)),
    CHECK (kind = 'camera_blind' OR matter_code IS NOT NULL)
);
CREATE INDEX early_warning_geom_idx ON early_warning USING gist (geom);
CREATE INDEX early_warning_open_idx ON early_warning (created_at DESC) WHERE status = 'open';
CREATE INDEX early_warning_kind_idx ON early_warning (kind, created_at DESC);
