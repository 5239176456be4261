"""What SQLite and PostgreSQL spell differently in our statements, in one place."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import JSON, ColumnElement, Select, func
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

POSTGRESQL = "postgresql"
Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])  # a SELECT of any columns


def insert(dialect: str, table: Any) -> PostgresInsert | SqliteInsert:
    """An INSERT that can say ON CONFLICT: both databases have it, each under its own class."""
    return postgres_insert(table) if dialect == POSTGRESQL else sqlite_insert(table)


def locked(query: Query, dialect: str, *, of: Any = None) -> Query:
    """Locks the rows read until commit on PostgreSQL (FOR UPDATE); SQLite's writing units hold the
    whole database already (BEGIN IMMEDIATE), so the query stays as it is there."""
    if dialect != POSTGRESQL:
        return query
    return query.with_for_update(of=of) if of is not None else query.with_for_update()


def json_rows(dialect: str, *columns: Any) -> ColumnElement[Any]:
    """An aggregate gathering one JSON array of `columns` per row into one JSON array of arrays.

    A JSON column goes in as JSON, not as its text (SQLite stores JSON as text and needs json()).
    """
    if dialect == POSTGRESQL:
        return func.json_agg(func.json_build_array(*columns))
    fields = [func.json(column) if _is_json(column) else column for column in columns]
    return func.json_group_array(func.json_array(*fields))


def _is_json(column: Any) -> bool:
    return isinstance(getattr(column, "type", None), JSON)
