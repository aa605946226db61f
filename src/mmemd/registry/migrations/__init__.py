"""Alembic migrations of the registry database (run by :func:`mmemd.registry.upgrade`)."""
