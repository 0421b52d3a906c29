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


# The dashboard's login (migration 0020): every table but the bus signing key.
WEB_LOGIN = "gridwatch_dashboard"


def web_role_url(url: str) -> str:
    """The same server and database as `url`, logged in as the dashboard's role (no password)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["user"] = WEB_LOGIN
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo(**info)
