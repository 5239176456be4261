"""Alembic's entry point: runs migrations on the connection `storage.db.upgrade` hands over."""

from alembic import context

from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `wspolnota db upgrade`, which passes a connection")

# Batch mode lets later migrations alter SQLite tables (it rebuilds them).
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
