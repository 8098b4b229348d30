"""Throw-away PostgreSQL databases for tests, evaluations and benchmarks: created fresh, dropped after."""

from __future__ import annotations

import uuid

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/test"


def create_database(server_url: str = DEFAULT_SERVER_URL, prefix: str = "deskmate") -> str:
    """A new empty database on the server of `server_url`; returns its URL. Raises if the server is absent."""
    import psycopg2

    conn = psycopg2.connect(server_url, connect_timeout=3)
    conn.autocommit = True
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str, server_url: str = DEFAULT_SERVER_URL) -> None:
    import psycopg2

    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    conn.close()
