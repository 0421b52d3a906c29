-- Grid import and export (geodata/grid_io.py). Queries with {table}, {parent} or {column} are
-- templates: the code fills them with psycopg.sql.Identifier, never with string formatting.

-- name: grid_io_lock
-- Two imports at once would each validate against a database the other is changing.
SELECT pg_advisory_xact_lock(hashtext('gridwatch.grid_io'));

-- name: grid_io_existing
SELECT code, {parent} AS parent FROM {table} WHERE code = ANY(%(codes)s);

-- name: grid_io_geoms_by_code
SELECT code, ST_AsBinary(geom) AS wkb FROM {table} WHERE code = ANY(%(codes)s) AND geom IS NOT NULL;

-- name: grid_io_siblings
-- Stored grids under the same parents that the file does not replace.
SELECT code, {parent} AS parent, ST_AsBinary(geom) AS wkb
FROM {table}
WHERE {parent} = ANY(%(parents)s) AND NOT (code = ANY(%(codes)s));

-- name: grid_io_children
SELECT code, {parent} AS parent, ST_AsBinary(geom) AS wkb FROM {table} WHERE {parent} = ANY(%(codes)s);

-- name: grid_io_base_grids_near
-- Base grids a sub-grid file may claim: those of its communities and any inside its extent.
SELECT code, community_code, sub_grid_code, ST_AsBinary(geom) AS wkb
FROM base_grid
WHERE community_code = ANY(%(communities)s)
   OR geom && ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, 4326)
ORDER BY code;

-- name: grid_io_base_grid_membership
SELECT code, community_code, sub_grid_code FROM base_grid WHERE community_code = ANY(%(communities)s);

-- name: grid_io_sub_grids_of
SELECT code, community_code, name FROM sub_grid WHERE community_code = ANY(%(communities)s);

-- name: grid_io_names_by_code
SELECT code, name FROM {table} WHERE code = ANY(%(codes)s);

-- name: grid_io_open_incident_counts
SELECT {column} AS code, count(*) AS n
FROM incident
WHERE {column} = ANY(%(codes)s) AND status NOT IN ('closed', 'cancelled')
GROUP BY {column};

-- name: grid_io_in_scope_missing
-- With --replace: stored grids of the file's scope (its parents; every row for districts) that the file
-- leaves out, i.e. the ones it removes.
SELECT code FROM {table}
WHERE (%(everything)s OR {parent} = ANY(%(parents)s)) AND NOT (code = ANY(%(codes)s))
ORDER BY code;

-- name: grid_io_children_of
-- What still hangs under grids about to be removed: {table} is the child level.
SELECT {parent} AS code, count(*) AS n, string_agg(code, ', ' ORDER BY code) AS children
FROM {table}
WHERE {parent} = ANY(%(codes)s)
GROUP BY {parent};

-- name: grid_io_workers_of_communities
SELECT community_code AS code, count(*) AS n, string_agg(code, ', ' ORDER BY code) AS workers
FROM grid_worker
WHERE community_code = ANY(%(codes)s)
GROUP BY community_code;

-- name: grid_io_end_assignments
-- A removed sub-grid's current workers stop being assigned; the rows stay as history.
UPDATE sub_grid_assignment SET valid_to = now(), reason = coalesce(reason || '; ', '') || %(reason)s
WHERE sub_grid_code = ANY(%(codes)s) AND valid_to IS NULL;

-- name: grid_io_delete
-- Closed incidents and ended assignments keep the code as text (migration 0012).
DELETE FROM {table} WHERE code = ANY(%(codes)s);

-- name: grid_io_district_upsert
-- A file without an English name column keeps the stored English names (%(has_name_en)s false).
INSERT INTO district AS t (code, name, name_en, geom)
SELECT u.code, u.name, u.name_en, ST_Multi(ST_GeomFromWKB(u.wkb, 4326))
FROM unnest(%(codes)s::text[], %(names)s::text[], %(names_en)s::text[], %(wkbs)s::bytea[])
    AS u (code, name, name_en, wkb)
ON CONFLICT (code) DO UPDATE
    SET name = EXCLUDED.name, geom = EXCLUDED.geom,
        name_en = CASE WHEN %(has_name_en)s THEN EXCLUDED.name_en ELSE t.name_en END;

-- name: grid_io_upsert
-- street and community: one statement for the whole file; name_en as for districts.
INSERT INTO {table} AS t (code, {parent}, name, name_en, geom)
SELECT u.code, u.parent, u.name, u.name_en, ST_Multi(ST_GeomFromWKB(u.wkb, 4326))
FROM unnest(%(codes)s::text[], %(parents)s::text[], %(names)s::text[], %(names_en)s::text[], %(wkbs)s::bytea[])
    AS u (code, parent, name, name_en, wkb)
ON CONFLICT (code) DO UPDATE
    SET {parent} = EXCLUDED.{parent}, name = EXCLUDED.name, geom = EXCLUDED.geom,
        name_en = CASE WHEN %(has_name_en)s THEN EXCLUDED.name_en ELSE t.name_en END;

-- name: grid_io_base_grid_upsert
-- One statement, so the sub-grid unions are recomputed once (statement-level trigger), not per row.
INSERT INTO base_grid AS t (code, community_code, sub_grid_code, name, geom)
SELECT u.code, u.community, u.sub_grid, u.name, ST_Multi(ST_GeomFromWKB(u.wkb, 4326))
FROM unnest(%(codes)s::text[], %(parents)s::text[], %(sub_grids)s::text[], %(names)s::text[],
            %(wkbs)s::bytea[]) AS u (code, community, sub_grid, name, wkb)
ON CONFLICT (code) DO UPDATE
    SET community_code = EXCLUDED.community_code, sub_grid_code = EXCLUDED.sub_grid_code,
        name = EXCLUDED.name, geom = EXCLUDED.geom;

-- name: grid_io_sub_grid_upsert
-- No geometry: the database derives it from the base grids.
INSERT INTO sub_grid AS t (code, community_code, name)
SELECT u.code, u.community, u.name
FROM unnest(%(codes)s::text[], %(parents)s::text[], %(names)s::text[]) AS u (code, community, name)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name;

-- name: grid_io_base_grid_set_sub_grids
UPDATE base_grid b SET sub_grid_code = u.sub_grid
FROM unnest(%(codes)s::text[], %(sub_grids)s::text[]) AS u (code, sub_grid)
WHERE b.code = u.code AND b.sub_grid_code IS DISTINCT FROM u.sub_grid;

-- name: grid_io_export
-- {name_en}: the column where the level has one, else NULL.
SELECT code, name, {name_en} AS name_en, {parent} AS parent, ST_AsBinary(geom) AS wkb FROM {table} ORDER BY code;

-- name: grid_io_base_grid_export
SELECT code, name, community_code AS parent, sub_grid_code AS sub_grid, ST_AsBinary(geom) AS wkb
FROM base_grid ORDER BY code;
