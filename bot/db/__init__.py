"""Persistence: SQLAlchemy models, repositories, the unit of work, Alembic migrations."""
