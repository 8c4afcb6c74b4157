"""Persistence: connections and sessions, the ORM tables, workflow state serialization, and Alembic migrations."""
