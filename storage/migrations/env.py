"""Alembic environment: the engine comes from storage.db (and so from settings)."""

from logging.config import fileConfig

from alembic import context

from storage.models import Base

config = context.config
if config.config_file_name is not None:  # the alembic CLI (alembic.ini): show what autogenerate detects
    fileConfig(config.config_file_name, disable_existing_loggers=False)
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
