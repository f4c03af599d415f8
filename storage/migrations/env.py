"""Alembic environment: the engine comes from storage.db (and so from settings)."""

from alembic import context

from storage.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    from storage.db import engine as default_engine

    engine = default_engine()

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
