"""Forward-only schema migrations, NNNN_name.sql, applied in order by geodata/migrate.py.

Never edit an applied file: add the next number. After adding one, run `gridwatch db schema` and commit
geodata/schema.sql with it; tests/geodata/test_schema.py compares that file with a migrated database.
"""
