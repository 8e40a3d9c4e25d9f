"""A bare durable-insert app: what a POST that commits two rows costs, the write baseline.

Each POST inserts one row and one audit row in one transaction and commits, as durably as
the app: SQLite in WAL mode with ``synchronous=FULL`` and ``BEGIN IMMEDIATE``, PostgreSQL
in one transaction. ``BENCH_DURABLE_URL`` names the database; ``create_tables`` runs first.
"""

import os
import sqlite3
from datetime import UTC, datetime

from flask import Flask

app = Flask(__name__)
URL = os.environ.get("BENCH_DURABLE_URL", "")
TABLES = {
    "sqlite": ("CREATE TABLE IF NOT EXISTS {} (id INTEGER PRIMARY KEY, {} TEXT, at TEXT)"),
    "postgresql": "CREATE TABLE IF NOT EXISTS {} (id BIGSERIAL PRIMARY KEY, {} TEXT, at TEXT)",
}
INSERTS = {
    "sqlite": (
        "INSERT INTO items (payload, at) VALUES (?, ?) RETURNING id",
        "INSERT INTO audit (action, at) VALUES (?, ?)",
    ),
    "postgresql": (
        "INSERT INTO items (payload, at) VALUES (%s, %s) RETURNING id",
        "INSERT INTO audit (action, at) VALUES (%s, %s)",
    ),
}
_connection = None  # one per worker process, opened by its first request


def connect(url: str):
    """Open the database as the app does (SQLite: busy timeout, WAL, synchronous=FULL)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        return conn
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))


def create_tables(url: str) -> None:
    """Create the two tables (before the app is served: workers do not race to make them)."""
    conn = connect(url)
    ddl = TABLES["sqlite" if url.startswith("sqlite") else "postgresql"]
    conn.execute(ddl.format("items", "payload"))
    conn.execute(ddl.format("audit", "action"))
    conn.commit()
    conn.close()


@app.post("/")
def insert() -> tuple[str, int]:
    """Write a row and its audit row in one transaction, and commit."""
    global _connection
    if _connection is None:
        _connection = connect(URL)
    conn, now = _connection, datetime.now(UTC).isoformat()
    if isinstance(conn, sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
        item, audit = INSERTS["sqlite"]
    else:
        item, audit = INSERTS["postgresql"]
    row = conn.execute(item, ("x", now)).fetchone()
    conn.execute(audit, (f"item {row[0]}", now))
    conn.commit()
    return str(row[0]), 201
