-- The catalogue read by geodata/schema_dump.py to write geodata/schema.sql.
-- Every query skips the system schemas and whatever an extension owns (pg_depend deptype 'e': PostGIS's
-- functions, types, spatial_ref_sys, geometry_columns...), and sorts by schema-qualified name in the "C"
-- collation, so the order depends neither on OIDs, nor on the order of migrations, nor on the locale.

-- name: schema_extensions
-- plpgsql comes with every database, so it says nothing about the migrations.
SELECT quote_ident(e.extname) AS name
FROM pg_extension e
WHERE e.extname <> 'plpgsql'
ORDER BY e.extname COLLATE "C";

-- name: schema_namespaces
SELECT quote_ident(n.nspname) AS name
FROM pg_namespace n
WHERE n.nspname NOT IN ('public', 'information_schema') AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
ORDER BY n.nspname COLLATE "C";

-- name: schema_types
-- Enums, domains, ranges and free-standing composite types; a table's row type is the table itself.
SELECT quote_ident(n.nspname) || '.' || quote_ident(t.typname) AS name,
       t.typtype AS kind,
       (SELECT array_agg(quote_literal(e.enumlabel) ORDER BY e.enumsortorder)
          FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
       t.typnotnull AS not_null,
       t.typdefault AS default_expr,
       (SELECT array_agg(quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid) ORDER BY c.conname COLLATE "C")
          FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c') AS checks,
       (SELECT array_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes,
       (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) AS range_subtype
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class rel ON rel.oid = t.typrelid
WHERE (t.typtype IN ('d', 'e', 'r') OR (t.typtype = 'c' AND rel.relkind = 'c'))
  AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname COLLATE "C", t.typname COLLATE "C";

-- name: schema_functions
-- A body written in SQL-standard form (BEGIN ATOMIC) has no source text: full_definition carries it.
SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname) AS name,
       pg_get_function_identity_arguments(p.oid) AS identity,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       p.prokind AS kind,
       quote_ident(l.lanname) AS language,
       p.provolatile AS volatility,
       p.proisstrict AS strict,
       p.prosecdef AS security_definer,
       p.proleakproof AS leakproof,
       p.proparallel AS parallel,
       p.procost AS cost,
       p.proretset AS returns_set,
       p.prorows AS rows,
       p.proconfig AS config,
       p.prosrc AS body,
       CASE WHEN p.prosrc = '' THEN pg_get_functiondef(p.oid) END AS full_definition
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE p.prokind IN ('f', 'p')
  AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY n.nspname COLLATE "C", p.proname COLLATE "C", pg_get_function_identity_arguments(p.oid) COLLATE "C";

-- name: schema_sequences
-- Identity columns' sequences (deptype 'i') are part of their column; serial ones (deptype 'a') are listed
-- with the column that owns them.
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
       format_type(s.seqtypid, NULL) AS data_type,
       s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min_value, s.seqmax AS max_value,
       s.seqcache AS cache, s.seqcycle AS cycle,
       (SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname)
          FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
           AND d.deptype = 'a') AS table_name,
       (SELECT quote_ident(a.attname)
          FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
           AND d.deptype = 'a') AS column_name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE c.relkind = 'S'
  AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'i'))
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C";

-- name: schema_tables
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
       c.relpersistence AS persistence,
       c.reloptions AS options,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C";

-- name: schema_columns
-- Columns keep their table's order (attnum): it is what SELECT * and COPY see.
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table_name,
       quote_ident(a.attname) AS name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       a.attnotnull AS not_null,
       pg_get_expr(ad.adbin, ad.adrelid) AS default_expr,
       a.attidentity AS identity,
       a.attgenerated AS generated,
       CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(co.collname) END AS collation
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", a.attnum;

-- name: schema_views
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
       c.relkind = 'm' AS materialized,
       pg_get_viewdef(c.oid, true) AS definition
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm')
  AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C";

-- name: schema_constraints
-- Not-null constraints (contype 'n', PostgreSQL 18) are shown on their column; constraint triggers
-- (contype 't') with the triggers.
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table_name,
       quote_ident(con.conname) AS name,
       pg_get_constraintdef(con.oid) AS definition
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype IN ('c', 'f', 'p', 'u', 'x')
  AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", con.conname COLLATE "C";

-- name: schema_indexes
-- Indexes that back a primary key, unique or exclusion constraint are that constraint, listed above.
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table_name,
       quote_ident(ic.relname) AS name,
       pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", ic.relname COLLATE "C";

-- name: schema_triggers
-- Internal triggers (those PostgreSQL makes for foreign keys) belong to their constraint.
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table_name,
       quote_ident(tg.tgname) AS name,
       pg_get_triggerdef(tg.oid) AS definition,
       tg.tgenabled AS enabled
FROM pg_trigger tg
JOIN pg_class c ON c.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT tg.tgisinternal
  AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", tg.tgname COLLATE "C";
