"""Request bodies → raw records: one JSON object, a JSON array, NDJSON or CSV.

The parsers only split the body into rows of raw values (CSV cells stay text); the record
schema (inventory.ingestion.fields) checks and converts every value, so all formats share
one set of rules. Bodies are read up to the configured limit and refused past it (413).
"""

import contextlib
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rest_framework.parsers import BaseParser

from greenai_portal.errors import ApplicationError
from greenai_portal.parsers import JsonBodyError, body_limit, load_json, too_large
from inventory.ingestion.fields import RowProblem

TAG_PREFIX = "tag:"
MEDIA_TYPES = ("application/json", "application/x-ndjson", "text/csv")


@dataclass
class RawRows:
    """Rows as sent, with the 1-based line of each in the body (None for JSON).

    `one_pass`: how the record schema may check a clean batch in one msgspec pass
    (RecordSchema.validate_one_pass): "json" values or CSV "text", in a body with no NUL.
    None: row by row."""

    rows: list[Any]
    lines: list[int] | None = None
    one_pass: str | None = None


def _one_pass(body: bytes, values: str) -> str | None:
    # No NUL, raw or as the JSON escape \u0000 (which a CSV tags column may hold too).
    return values if b"\\u0000" not in body and b"\x00" not in body else None


def read_limited(stream) -> bytes:
    """The whole body, or 413 as soon as it passes the limit (chunked bodies included)."""
    limit = body_limit()
    if stream is None:
        return b""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise too_large()
    return body


def parse_json(body: bytes) -> RawRows:
    try:
        payload = load_json(body)
    except JsonBodyError as error:
        raise ApplicationError(f"JSON parse error: {error}") from None
    if isinstance(payload, dict):
        return RawRows([payload], one_pass=_one_pass(body, "json"))
    if isinstance(payload, list):
        return RawRows(payload, one_pass=_one_pass(body, "json"))
    raise ApplicationError("Send a JSON object (one record) or an array of records")


def parse_ndjson(body: bytes) -> RawRows:
    rows, lines, errors = [], [], []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            rows.append(load_json(line))
            lines.append(number)
        except JsonBodyError as error:
            errors.append(
                {"row": len(rows), "line": number, "field": "non_field_errors",
                 "message": f"Not valid JSON on line {number}: {error}"}
            )  # fmt: skip
        if len(errors) >= 100:
            break
    if errors:
        raise ApplicationError("NDJSON parse error: some lines are not JSON", errors=errors)
    return RawRows(rows, lines, one_pass=_one_pass(body, "json"))


# A header can hold a million made-up columns: name this many, count the rest.
MAX_UNKNOWN_COLUMNS_NAMED = 20


def unknown_columns(unknown: list[str], known: Iterable[str]) -> ApplicationError:
    """The error for a header's unknown columns: the first ones named (cut short), each with
    the valid ones, and a count of the rest."""
    named = unknown[:MAX_UNKNOWN_COLUMNS_NAMED]
    more = len(unknown) - len(named)
    valid = f"Unknown column; valid: {', '.join(sorted(known))}, tag:<key>"
    return ApplicationError(
        f"CSV header has {len(unknown)} unknown column(s)"
        + (f" ({more} not listed)" if more else ""),
        errors=[{"field": name[:100], "message": valid} for name in named],
    )


class CsvRecords:
    """Reads CSV rows as records: header names are fields, `tag:<key>` columns are tags and a
    `tags` column may hold a JSON object; empty cells are absent values."""

    def __init__(self, header: list[str], field_names: Iterable[str]) -> None:
        known = set(field_names)
        self.header = [name.strip() for name in header]
        unknown = [
            name for name in self.header if name not in known and not name.startswith(TAG_PREFIX)
        ]
        if not self.header:
            raise ApplicationError("CSV body has no header row")
        if unknown:
            raise unknown_columns(unknown, known)
        self.tag_columns = [
            (i, name[len(TAG_PREFIX) :])
            for i, name in enumerate(self.header)
            if name.startswith(TAG_PREFIX)
        ]
        self.plain_columns = [
            (i, name) for i, name in enumerate(self.header) if not name.startswith(TAG_PREFIX)
        ]
        self.width = len(self.header)

    def record(self, cells: list[str]) -> dict[str, Any] | RowProblem:
        if len(cells) != self.width:
            return RowProblem(f"Has {len(cells)} cells; the header has {self.width} columns")
        if self.tag_columns or "" in cells:
            record: dict[str, Any] = {name: cells[i] for i, name in self.plain_columns if cells[i]}
        else:  # the usual row, every cell filled: built in C
            record = dict(zip(self.header, cells, strict=True))
        tags_cell = record.get("tags")
        if tags_cell is not None:
            # Not JSON: left as text, which the schema reports as "must be an object".
            with contextlib.suppress(JsonBodyError):
                record["tags"] = load_json(tags_cell)
        if self.tag_columns:
            found = {key: cells[i] for i, key in self.tag_columns if cells[i]}
            if found:
                record.setdefault("tags", {})
                if isinstance(record["tags"], dict):
                    record["tags"] = {**record["tags"], **found}
        return record


def csv_rows(lines: Iterable[str], field_names: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line number, record) for each data row of a CSV text stream, header first."""
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ApplicationError("CSV body is empty: send a header row and records")
        records = CsvRecords(header, field_names)
        for cells in reader:
            if not cells:
                continue
            yield reader.line_num, records.record(cells)
    except csv.Error as error:
        raise ApplicationError(f"CSV parse error at line {reader.line_num}: {error}") from None


def parse_csv(body: bytes, field_names: Iterable[str]) -> RawRows:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ApplicationError(f"CSV parse error: not UTF-8 text ({error.reason})") from None
    rows, lines = [], []
    for line, record in csv_rows(io.StringIO(text, newline=""), field_names):
        rows.append(record)
        lines.append(line)
    return RawRows(rows, lines, one_pass=_one_pass(body, "text"))


class _RecordsParser(BaseParser):
    """DRF parser: the view's `record_schema` tells the CSV parser which columns exist."""

    def parse(self, stream, media_type=None, parser_context=None) -> RawRows:
        body = read_limited(stream)
        view = (parser_context or {}).get("view")
        return self.parse_body(body, view)

    def parse_body(self, body: bytes, view) -> RawRows:
        raise NotImplementedError


class JsonRecordsParser(_RecordsParser):
    media_type = "application/json"

    def parse_body(self, body: bytes, view) -> RawRows:
        return parse_json(body)


class NdjsonRecordsParser(_RecordsParser):
    media_type = "application/x-ndjson"

    def parse_body(self, body: bytes, view) -> RawRows:
        return parse_ndjson(body)


class CsvRecordsParser(_RecordsParser):
    media_type = "text/csv"

    def parse_body(self, body: bytes, view) -> RawRows:
        return parse_csv(body, view.record_schema.field_names)


RECORD_PARSERS = [JsonRecordsParser, NdjsonRecordsParser, CsvRecordsParser]
