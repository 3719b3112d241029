"""Alembic environment for the ledger; normally run through ``sparklayer_erp.ledger.migrate``.

``migrate`` passes an open connection (already holding the migration lock) in
``config.attributes["connection"]``. With only ``sqlalchemy.url`` set (e.g. the ``alembic`` CLI with
``-x`` or a hand-made Config) an engine is built the same way the ledger builds one.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from sparklayer_erp.ledger.engine import make_engine
from sparklayer_erp.ledger.migrate import VERSION_TABLE
from sparklayer_erp.ledger.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as conn:
            _configure(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
