"""Set-based writers for ingested records: idempotent by (organisation, external_id).

Two paths with one contract, `write(rows) -> WriteResult`:
- Postgres (binary COPY through psycopg 3's `cursor.copy`): a batch is first copied straight
  into the table, at the speed of a raw COPY; if one of its ids is stored already (a re-send,
  or a concurrent batch that stored it first) it is copied into a temporary table instead,
  then one INSERT … SELECT … ON CONFLICT DO NOTHING and one join finds ids stored with other
  content;
- portable (SQLite, and small Postgres batches where COPY's fixed cost is not worth it):
  multi-row INSERT … VALUES … ON CONFLICT DO NOTHING in chunks, then a select of the stored
  hashes. tests/inventory/test_ingest_writers.py runs both on the same rows and compares.

Conflicts are looked for *after* inserting, inside the caller's transaction: an id that a
concurrent batch stored with other content a moment ago is seen then, and the caller rolls
the whole batch back.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import msgspec
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.errors import UniqueViolation
from psycopg.types.json import set_json_dumps

from greenai_portal.db import TIME_OF_WRITING, prepared_cursor, save_default

# Below this many rows a multi-row INSERT beats COPY's temp-table set-up.
COPY_MIN_ROWS = 200
# SQLite allows 32766 bound parameters per statement (999 before 3.32).
_MAX_PARAMS = 30_000


@dataclass(frozen=True)
class WriteResult:
    created: int
    # (row number, external_id) of ids already stored with other content.
    conflicts: list[tuple[int, str]]


@dataclass(frozen=True)
class RecordTable:
    """Where one record kind is written: the per-row columns and the model's fixed values."""

    model: type[models.Model]
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    def fixed_values(self) -> list[tuple[str, Any]]:
        """Columns not sent per row: the model's defaults (e.g. status pending) and times."""
        now = timezone.now()
        return [
            (column, now if value is TIME_OF_WRITING else value) for column, value in self._defaults
        ]

    @cached_property
    def _defaults(self) -> tuple[tuple[str, Any], ...]:
        """Read from the model (once) so a column another module adds with a default is
        filled in; a nullable column without a default is left out."""
        fixed = []
        for field in self.model._meta.concrete_fields:
            if field.primary_key or field.column in self.columns:
                continue
            default = save_default(field)
            if default is TIME_OF_WRITING:
                fixed.append((field.column, default))
            elif field.has_default() or not field.null:
                fixed.append((field.column, field.get_db_prep_save(default, connection)))
        return tuple(fixed)

    @cached_property
    def adapters(self) -> tuple[tuple[int, Any], ...]:
        """(index, adapter) of the per-row columns whose values the driver cannot take as
        they are."""
        found = ((i, _adapter(self.fields_by_column[c])) for i, c in enumerate(self.columns))
        return tuple((i, adapter) for i, adapter in found if adapter is not None)

    @cached_property
    def fields_by_column(self) -> dict[str, models.Field]:
        return {field.column: field for field in self.model._meta.concrete_fields}

    @property
    def _external_id_index(self) -> int:
        return self.columns.index("external_id")

    @property
    def _hash_index(self) -> int:
        return self.columns.index("content_hash")


def _adapter(field: models.Field):
    """Turns a Python value into what the database driver takes for this column."""
    internal = field.get_internal_type()
    ops = connection.ops
    if internal == "DateTimeField":
        return ops.adapt_datetimefield_value
    if internal == "DateField":
        return ops.adapt_datefield_value
    if internal == "JSONField":
        return lambda value: value if value is None or isinstance(value, str) else json.dumps(value)
    return None


def write_rows(
    table: RecordTable,
    *,
    organisation_id: int,
    rows: Sequence[tuple],
    row_numbers: Sequence[int],
    use_copy: bool | None = None,
) -> WriteResult:
    """Insert rows (tuples in `table.columns` order) that are not stored yet."""
    if not rows:
        return WriteResult(0, [])
    if use_copy is None:
        use_copy = connection.vendor == "postgresql" and len(rows) >= COPY_MIN_ROWS
    if use_copy:
        return _write_copy(table, organisation_id, rows, row_numbers)
    return _write_values(table, organisation_id, rows, row_numbers)


def _copy_types(raw, table_name: str, columns: Sequence[str]) -> list[int]:
    """The Postgres type of each column, which binary COPY needs to encode the values.

    Binary COPY costs the server and this process less than text: no float, date or JSON
    text to write or parse.
    """
    known = _COLUMN_TYPES.get(table_name)
    if known is None:
        raw.execute(
            "SELECT attname, atttypid::integer FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table_name],
        )
        known = _COLUMN_TYPES[table_name] = dict(raw.fetchall())
    return [known[column] for column in columns]


_COLUMN_TYPES: dict[str, dict[str, int]] = {}
_INTEGER_OID = 23


def _write_copy(
    table: RecordTable, organisation_id: int, rows: Sequence[tuple], row_numbers: Sequence[int]
) -> WriteResult:
    fixed = table.fixed_values()
    if _copy_direct(table, rows, fixed):
        return WriteResult(len(rows), [])
    return _write_staged(table, organisation_id, rows, row_numbers, fixed)


def _copy_direct(table: RecordTable, rows: Sequence[tuple], fixed: list[tuple[str, Any]]) -> bool:
    """COPY every row into the table; False, with nothing stored, if an id is stored already.

    Optimistic: a first send, the usual case, costs one COPY and no lookup. A re-send fails
    on the unique index (at its first stored id, often the first row) and the staged path
    takes over; so does a batch that a concurrent one beat to an id.
    """
    all_columns = [*table.columns, *(column for column, _ in fixed)]
    fixed_values = tuple(value for _, value in fixed)
    with connection.cursor() as cursor:
        raw = _copy_cursor(cursor)
        types = _copy_types(raw, table.name, all_columns)
        try:
            with (
                transaction.atomic(),  # a savepoint, rolled back if the COPY fails
                raw.copy(
                    f"COPY {table.name} ({', '.join(all_columns)}) FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(types)
                write_row = copy.write_row
                for row in rows:
                    write_row((*row, *fixed_values))
        except UniqueViolation:
            return False
    return True


def _copy_cursor(cursor):
    """The psycopg 3 cursor under Django's wrapper, writing JSON values with msgspec (twice as
    fast as json.dumps; jsonb keeps no text, so the bytes need not match)."""
    raw = cursor.cursor
    set_json_dumps(msgspec.json.encode, context=raw)
    return raw


def _write_staged(
    table: RecordTable,
    organisation_id: int,
    rows: Sequence[tuple],
    row_numbers: Sequence[int],
    fixed: list[tuple[str, Any]],
) -> WriteResult:
    columns = ", ".join(table.columns)
    fixed_columns = "".join(f", {column}" for column, _ in fixed)
    fixed_marks = "".join(", %s" for _ in fixed)
    staging = f"_ingest_{table.name}"
    with connection.cursor() as cursor:
        raw = _copy_cursor(cursor)
        types = [_INTEGER_OID, *_copy_types(raw, table.name, table.columns)]
        raw.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "  # noqa: S608 - identifiers are ours
            f"SELECT 0::integer AS row_no, {columns} FROM {table.name} WITH NO DATA"
        )
        with raw.copy(f"COPY {staging} (row_no, {columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            write_row = copy.write_row
            for number, row in zip(row_numbers, rows, strict=True):
                write_row((number, *row))
        raw.execute(
            f"INSERT INTO {table.name} ({columns}{fixed_columns}) "  # noqa: S608
            f"SELECT {columns}{fixed_marks} FROM {staging} "
            "ON CONFLICT (organisation_id, external_id) DO NOTHING",
            [value for _, value in fixed],
        )
        created = raw.rowcount
        conflicts = []
        # Every row inserted: none met a stored id, so none can conflict.
        if created < len(rows):
            raw.execute(
                f"SELECT s.row_no, s.external_id FROM {staging} s "  # noqa: S608
                f"JOIN {table.name} t ON t.organisation_id = %s "
                "AND t.external_id = s.external_id "
                "WHERE t.content_hash <> s.content_hash ORDER BY s.row_no",
                [organisation_id],
            )
            conflicts = [(int(number), external_id) for number, external_id in raw.fetchall()]
        raw.execute(f"DROP TABLE {staging}")
    return WriteResult(created, conflicts)


def _write_values(
    table: RecordTable, organisation_id: int, rows: Sequence[tuple], row_numbers: Sequence[int]
) -> WriteResult:
    fixed_values = [value for _, value in table.fixed_values()]
    adapt = table.adapters
    per_row = len(table.columns) + len(fixed_values)
    chunk = max(1, _MAX_PARAMS // per_row)
    created = 0
    with prepared_cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            params: list[Any] = []
            for row in part:
                values = list(row)
                for i, adapter in adapt:
                    values[i] = adapter(values[i])
                params.extend(values)
                params.extend(fixed_values)
            cursor.execute(_values_statement(table, len(part)), params)
            created += cursor.rowcount
        conflicts = (
            _stored_conflicts(cursor, table, organisation_id, rows, row_numbers)
            if created < len(rows)
            else []
        )
    return WriteResult(created, conflicts)


@lru_cache(maxsize=256)  # one per batch length seen
def _values_statement(table: RecordTable, rows: int) -> str:
    columns = [*table.columns, *(column for column, _ in table.fixed_values())]
    marks_one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - identifiers are ours
        f"VALUES {', '.join([marks_one] * rows)} "
        "ON CONFLICT (organisation_id, external_id) DO NOTHING"
    )


def _stored_conflicts(
    cursor, table: RecordTable, organisation_id: int, rows, row_numbers
) -> list[tuple[int, str]]:
    id_at, hash_at = table._external_id_index, table._hash_index
    sent = {
        row[id_at]: (number, row[hash_at]) for number, row in zip(row_numbers, rows, strict=True)
    }
    ids = list(sent)
    conflicts = []
    for start in range(0, len(ids), 900):
        part = ids[start : start + 900]
        cursor.execute(
            f"SELECT external_id, content_hash FROM {table.name} "  # noqa: S608
            f"WHERE organisation_id = %s AND external_id IN ({', '.join(['%s'] * len(part))})",
            [organisation_id, *part],
        )
        for external_id, stored_hash in cursor.fetchall():
            number, digest = sent[external_id]
            if stored_hash != digest:
                conflicts.append((number, external_id))
    conflicts.sort()
    return conflicts
