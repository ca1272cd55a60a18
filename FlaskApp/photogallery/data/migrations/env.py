"""Alembic environment: runs on the engine the app built (see data/migrate.py)."""

from alembic import context

from photogallery.data.schema import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
