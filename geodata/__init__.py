"""PostGIS: schema, migrations, named queries, repositories, import/export and the demo data set."""
