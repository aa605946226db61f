"""Alembic environment: the registry runs its migrations programmatically (:func:`mmemd.registry.upgrade`), on the
connection it passes in ``config.attributes["connection"]``; offline (SQL script) mode is not used."""

from __future__ import annotations

from alembic import context

from mmemd.registry._models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
