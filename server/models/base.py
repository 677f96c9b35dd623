"""Declarative base and shared column types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, class_mapper
from sqlalchemy.orm.attributes import instance_dict

#: What an `integer` column holds on PostgreSQL (ids and every other integer).
MAX_DB_INT = 2**31 - 1
MIN_DB_INT = -(2**31)

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (SQLite keeps none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_Row = TypeVar("_Row", bound=Base)


def detached(cls: type[_Row], **values: Any) -> _Row:
    """An instance of `cls` holding `values` as if loaded from the database, for views and
    payloads of rows that Core statements read or wrote (the hot paths).

    The mapped constructor records every value as a change and runs the backrefs (a
    ticket's service then starts its `tickets` collection): ~50x the cost of filling the
    instance's state the way SQLAlchemy's own loading does, which this does. The instance
    is transient and has nothing pending: never add it to a session (load the row to
    change it). Related rows given as values (``service=…``) are read back as given.
    """
    new_instance = _NEW_INSTANCE.get(cls)
    if new_instance is None:
        # class_mapper configures the mappers first, as a constructor would
        new_instance = _NEW_INSTANCE[cls] = class_mapper(cls).class_manager.new_instance
    instance = new_instance()
    instance_dict(instance).update(values)
    return instance


#: Each class's instance factory, found once (`detached` runs several times a request).
_NEW_INSTANCE: dict[type, Any] = {}
