"""The few statements every request of a hot path runs (API token lookup, CodeCarbon posts),
and the consistent view a report is read in."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field, Model
from django.utils import timezone


class _PreparingCursor(psycopg.Cursor):
    """Binds parameters on the server and prepares each statement the first time it runs."""

    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=True, **kwargs)


@contextmanager
def prepared_cursor(*, pipeline: bool = False) -> Iterator[Any]:
    """A cursor for statements run over and over with other values.

    On Postgres each statement is prepared once per connection (psycopg names and keeps them;
    connections persist for CONN_MAX_AGE), so later runs skip parsing and planning: for the
    short statements of a CodeCarbon post that halves the server's CPU. In the caller's
    transaction, with database errors turned into Django's as its own cursors do. Django's
    cursor elsewhere (SQLite). A connection pooler in front of Postgres must pass prepared
    statements through (PgBouncer 1.21+ with max_prepared_statements).

    `pipeline`: on Postgres the statements go out together and their results come back when
    one is fetched or the block ends: one round trip for all. For writes whose values do not
    depend on each other's results (rowcount is not kept: fetch a RETURNING instead).
    """
    db = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy: a lookup per attribute
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            yield cursor
        return
    if db.connection is None:
        db.ensure_connection()
    db.validate_no_broken_transaction()
    raw = db.connection
    with (
        db.wrap_database_errors,
        _PreparingCursor(raw) as cursor,
        raw.pipeline() if pipeline else nullcontext(),  # synced before the cursor closes
    ):
        yield cursor


def table(model: type[Model]) -> str:
    """A model's table, quoted, for statements written by hand: the one way they name one."""
    return connection.ops.quote_name(model._meta.db_table)


Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class ModelColumns:
    """A model's concrete columns as the ORM loads them, for statements written by hand:
    the select list (under a table alias) and how values become attributes (Django's
    converters, e.g. SQLite's text datetimes, JSON text, for the columns that have any)."""

    model: type[Model]
    select: str
    attnames: tuple[str, ...]
    converters: tuple[tuple[int, tuple[tuple[Converter, Any], ...]], ...]

    def instance(self, values: Sequence[Any]) -> Model:
        if self.converters:
            values = list(values)
            for at, converters in self.converters:
                value = values[at]
                for converter, expression in converters:
                    value = converter(value, expression, connection)
                values[at] = value
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, values)


@cache
def model_columns(model: type[Model], alias: str) -> ModelColumns:
    """Worked out once per process and model: the ORM does this for every query."""
    select, attnames, converters = [], [], []
    for at, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(alias)
        found = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
        select.append(f"{alias}.{connection.ops.quote_name(field.column)}")
        attnames.append(field.attname)
        if found:
            converters.append((at, tuple((converter, column) for converter in found)))
    return ModelColumns(model, ", ".join(select), tuple(attnames), tuple(converters))


def rows_where(model: type[Model], where: str, params: list) -> list[Model]:
    """Instances of one model through a hand-written WHERE (and ORDER BY, LIMIT) on its
    columns, as the ORM would load them.

    For lookups on a hot path: compiling the ORM's query costs more than running it (a
    mapping-rule lookup: 1.2 ms through the ORM, 0.36 ms through a raw queryset, less again
    with a statement prepared once per connection).
    """
    columns = model_columns(model, "x")
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT {columns.select} FROM {table(model)} x WHERE {where}", params)  # noqa: S608
        return [columns.instance(row) for row in cursor.fetchall()]


def first_where(model: type[Model], where: str, params: list) -> Model | None:
    """The first instance `rows_where` finds in id order, or None (as the ORM's .first())."""
    return next(iter(rows_where(model, f"{where} ORDER BY id LIMIT 1", params)), None)


# save_default's answer for auto_now and auto_now_add columns.
TIME_OF_WRITING = object()


def save_default(field: Field) -> Any:
    """What save() writes in a column it was given no value for: TIME_OF_WRITING for
    auto_now and auto_now_add, otherwise the field's default ('' for a non-null text column
    without one, None for a nullable column without one)."""
    if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
        return TIME_OF_WRITING
    return field.get_default()


def row_inserted(model: type[Model], values: dict[str, Any]) -> int | None:
    """INSERT one row: `values` by attribute name (`team_id`, not `team`), the model's
    defaults and auto_now_add times for the other columns, as save() would fill them.

    If a stored row breaks one of the model's unique constraints, nothing is written and the
    answer is None; otherwise the new row's primary key. One prepared statement: no model
    instance, no savepoint; a conflicting row of a concurrent transaction is waited for.
    """
    fields = _insert_fields(model)
    params, now, used = [], None, 0
    for field in fields:
        if field.attname in values:
            value = values[field.attname]
            used += 1
        elif (value := save_default(field)) is TIME_OF_WRITING:
            value = now = now or timezone.now()
        params.append(field.get_db_prep_save(value, connection))
    if used != len(values):
        unknown = set(values) - {field.attname for field in fields}
        raise TypeError(f"{model.__name__} has no column {', '.join(sorted(unknown))}")
    with prepared_cursor() as cursor:
        cursor.execute(_insert_statement(model), params)
        row = cursor.fetchone()
    return None if row is None else row[0]


@cache
def _insert_fields(model: type[Model]) -> tuple:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


@cache
def _insert_statement(model: type[Model]) -> str:
    fields = _insert_fields(model)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    return (
        f"INSERT INTO {table(model)} ({columns}) "  # noqa: S608 - identifiers are ours
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(model._meta.pk.column)}"
    )


@contextmanager
def large_read(*, shortest_floats: bool = False) -> Iterator[None]:
    """A transaction whose Postgres reads of millions of records group in memory (64 MB of
    work_mem rather than sorting on disk) without JIT compilation, which costs more than it
    saves on reads of seconds; with `shortest_floats`, floats as text in their shortest
    round-trip form (Python's repr digits). SET LOCAL ends with the transaction.

    A GROUP BY over a dozen lineage columns is estimated at the product of their distinct
    counts (500k groups for the 55 of a 5M-record quarter): at the default work_mem the
    planner sorts 5M rows on disk for them (7.6 s against 2.2 s hashed, bench/report.py)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64MB'")
                cursor.execute("SET LOCAL jit = off")
                if shortest_floats:
                    cursor.execute("SET LOCAL extra_float_digits = 1")
        yield


@contextmanager
def consistent_read() -> Iterator[None]:
    """Every query inside sees the database as the first one saw it.

    A report reads several queries; a worker committing between two of them (READ COMMITTED
    takes a new snapshot per statement) would make them disagree: a location in one and not
    the other, factor rows of records the totals do not count. On Postgres this is one
    REPEATABLE READ transaction; SQLite's transaction reads one snapshot already. Inside a
    caller's transaction the caller's view holds (a lock takes the organisation lock first).
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield
