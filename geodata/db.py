"""Connections to PostGIS."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row


def connect(url: str, *, autocommit: bool = False, dict_rows: bool = True) -> psycopg.Connection:
    """Open one connection; rows come back as dicts unless asked otherwise."""
    return psycopg.connect(
        url,
        autocommit=autocommit,
        row_factory=dict_row if dict_rows else psycopg.rows.tuple_row,
        application_name="gridwatch",
    )
