-- The grid hierarchy: district > street > community > sub-grid > base grid.
-- The seed's rule ("without crossing communities and without splitting base grids") is held here:
-- a base grid lies inside its community and overlaps no sibling, belongs to exactly one sub-grid of
-- the same community, and a sub-grid's shape is always the union of its base grids.

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE district (
    code    text PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
    name    text NOT NULL,
    name_en text,
    geom    geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);

CREATE TABLE street (
    code          text PRIMARY KEY CHECK (code ~ '^[0-9]{9}$'),
    district_code text NOT NULL REFERENCES district (code),
    name          text NOT NULL,
    name_en       text,
    geom          geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    CHECK (left(code, 6) = district_code)
);

CREATE TABLE community (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{12}$'),
    street_code text NOT NULL REFERENCES street (code),
    name        text NOT NULL,
    name_en     text,
    geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    CHECK (left(code, 9) = street_code)
);

CREATE TABLE sub_grid (
    code           text PRIMARY KEY CHECK (code ~ '^[0-9]{14}$'),
    community_code text NOT NULL REFERENCES community (code),
    name           text NOT NULL,
    -- Derived: the union of the sub-grid's base grids, maintained by trg_sub_grid_derive.
    geom           geometry(MultiPolygon, 4326),
    CHECK (left(code, 12) = community_code),
    UNIQUE (code, community_code)
);

CREATE TABLE base_grid (
    code           text PRIMARY KEY CHECK (code ~ '^[0-9]{15}$'),
    community_code text NOT NULL REFERENCES community (code),
    sub_grid_code  text NOT NULL,
    name           text NOT NULL,
    geom           geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    CHECK (left(code, 12) = community_code),
    -- A base grid's sub-grid is one of its own community: the composite key makes crossing impossible.
    FOREIGN KEY (sub_grid_code, community_code) REFERENCES sub_grid (code, community_code)
        DEFERRABLE INITIALLY IMMEDIATE
);

CREATE INDEX district_geom_idx ON district USING gist (geom);
CREATE INDEX street_geom_idx ON street USING gist (geom);
CREATE INDEX community_geom_idx ON community USING gist (geom);
CREATE INDEX sub_grid_geom_idx ON sub_grid USING gist (geom);
CREATE INDEX base_grid_geom_idx ON base_grid USING gist (geom);
CREATE INDEX base_grid_sub_grid_idx ON base_grid (sub_grid_code);
CREATE INDEX base_grid_community_idx ON base_grid (community_code);

-- 1 m tolerance expressed in degrees at Shenzhen's latitude (1e-5 deg is about 1.03 m east-west).
CREATE FUNCTION gridwatch_tolerance_deg() RETURNS double precision
    LANGUAGE sql IMMUTABLE AS $$ SELECT 0.00001::double precision $$;

-- Sub-grid shape: always recomputed from base grids, whatever a statement tried to write.
CREATE FUNCTION sub_grid_derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.geom := (
        SELECT ST_Multi(ST_CollectionExtract(ST_Union(b.geom, 1e-9), 3))
        FROM base_grid b WHERE b.sub_grid_code = NEW.code
    );
    RETURN NEW;
END $$;

CREATE TRIGGER trg_sub_grid_derive BEFORE INSERT OR UPDATE ON sub_grid
    FOR EACH ROW EXECUTE FUNCTION sub_grid_derive();

CREATE FUNCTION base_grid_touch_sub_grids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE sub_grid s SET geom = NULL
        WHERE s.code IN (SELECT DISTINCT sub_grid_code FROM new_rows);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE sub_grid s SET geom = NULL
        WHERE s.code IN (SELECT DISTINCT sub_grid_code FROM old_rows);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_base_grid_union_ins AFTER INSERT ON base_grid
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION base_grid_touch_sub_grids();
CREATE TRIGGER trg_base_grid_union_upd AFTER UPDATE ON base_grid
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION base_grid_touch_sub_grids();
CREATE TRIGGER trg_base_grid_union_del AFTER DELETE ON base_grid
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION base_grid_touch_sub_grids();

-- Checked at commit, so a whole import or a move can be written first and judged as one.
CREATE FUNCTION base_grid_check_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    other text;
BEGIN
    -- The row may have been changed or deleted again later in the transaction: judge what is there now.
    PERFORM 1 FROM base_grid WHERE code = NEW.code;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM base_grid b JOIN community c ON c.code = b.community_code
        WHERE b.code = NEW.code
          AND ST_CoveredBy(b.geom, ST_Buffer(c.geom, gridwatch_tolerance_deg()))
    ) THEN
        RAISE EXCEPTION 'base grid % is not inside its community %', NEW.code, NEW.community_code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'base_grid_inside_community';
    END IF;
    SELECT o.code INTO other
    FROM base_grid b JOIN base_grid o
      ON o.community_code = b.community_code AND o.code <> b.code AND ST_Intersects(o.geom, b.geom)
    WHERE b.code = NEW.code
      AND ST_Area(ST_Intersection(o.geom, b.geom)::geography) > 1.0
    LIMIT 1;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION 'base grid % overlaps base grid % of the same community', NEW.code, other
            USING ERRCODE = 'check_violation', CONSTRAINT = 'base_grid_no_overlap';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER trg_base_grid_rules AFTER INSERT OR UPDATE OF geom, community_code ON base_grid
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION base_grid_check_rules();

-- A sub-grid is made of whole base grids: it may not be left empty.
CREATE FUNCTION sub_grid_check_not_empty() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    code_to_check text;
BEGIN
    IF TG_TABLE_NAME = 'sub_grid' THEN
        code_to_check := NEW.code;
    ELSE
        code_to_check := OLD.sub_grid_code;
    END IF;
    IF EXISTS (SELECT 1 FROM sub_grid WHERE code = code_to_check)
       AND NOT EXISTS (SELECT 1 FROM base_grid WHERE sub_grid_code = code_to_check) THEN
        RAISE EXCEPTION 'sub-grid % has no base grid', code_to_check
            USING ERRCODE = 'check_violation', CONSTRAINT = 'sub_grid_not_empty';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER trg_sub_grid_not_empty AFTER INSERT ON sub_grid
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION sub_grid_check_not_empty();
CREATE CONSTRAINT TRIGGER trg_base_grid_leaves_sub_grid AFTER UPDATE OF sub_grid_code OR DELETE ON base_grid
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION sub_grid_check_not_empty();
