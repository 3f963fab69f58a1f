"""Fast, strict per-row validation of ingested records.

DRF serializers cost ~0.5 ms a record; a bulk endpoint that must take tens of thousands of
records a second cannot afford that, so records are checked here by small parser functions,
one per field, that turn the sent value into its canonical Python value or raise FieldError.
The same canonical value comes out whatever the wire format (JSON number or CSV text), so a
record's content hash does not depend on how it was sent.

A clean batch is first checked whole by msgspec, in C (`RecordSchema.validate_one_pass`):
each parser names the msgspec type of the values it takes as they are, a narrower set than it
accepts that gives the same value: `json_type` for JSON values, `text_type` for CSV text. A
field whose parser names none is parsed after that pass, by its parser. Only a batch the pass
cannot clear (a bad value to word, or one only the parsers take: null, "", a number sent as
text) goes through the parsers row by row.
"""

import math
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Any, Literal, Protocol

import msgspec

from greenai_portal.errors import ApplicationError

MISSING = object()

Parser = Callable[[Any], Any]


class FieldError(ValueError):
    """The value sent for one field is not acceptable; the message says why."""


@dataclass(frozen=True)
class RowProblem:
    """A row a parser could not turn into a record (e.g. a CSV row with too many cells)."""

    message: str


def shown(value: Any, limit: int = 60) -> str:
    """A sent value as an error message quotes it: its repr, cut short (a bad value may be
    megabytes, and an error names it once a row)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def _bounds(schema: dict[str, Any], low: Any, high: Any) -> dict[str, Any]:
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


def _msgspec_type(kind: Any, **constraints: Any) -> Any:
    """`kind` under msgspec constraints; those given as None are left out."""
    given = {name: value for name, value in constraints.items() if value is not None}
    return Annotated[kind, msgspec.Meta(**given)] if given else kind


def _refuse_nul(value: str) -> None:
    # Postgres stores no NUL in text or jsonb: refused here, named, rather than failing the batch.
    if "\x00" in value:
        raise FieldError("May not contain a NUL character (\\u0000)")


def text(max_length: int, *, pattern: str | None = None, hint: str = "") -> Parser:
    regex = re.compile(pattern) if pattern else None

    def parse(value: Any) -> str:
        if type(value) is not str:
            raise FieldError("Must be a string")
        if not value:
            raise FieldError("May not be blank")
        if len(value) > max_length:
            raise FieldError(f"At most {max_length} characters (got {len(value)})")
        _refuse_nul(value)
        if regex is not None and regex.fullmatch(value) is None:
            raise FieldError(hint or f"Must match {pattern}")
        return value

    parse.openapi = {"type": "string", "maxLength": max_length}
    if pattern:
        parse.openapi["pattern"] = pattern
    # NUL is ruled out for the whole body before this type is used (RawRows.one_pass). msgspec
    # searches: anchored at both ends, the pattern is the parser's fullmatch.
    parse.json_type = parse.text_type = _msgspec_type(
        str,
        min_length=1,
        max_length=max_length,
        pattern=rf"^(?:{pattern})\Z" if pattern else None,
    )
    return parse


def slug(max_length: int) -> Parser:
    return text(
        max_length,
        pattern=r"[-a-zA-Z0-9_]+",
        hint="Must be a slug: letters, digits, hyphens and underscores",
    )


def choice(choices: Iterable[str]) -> Parser:
    valid = frozenset(choices)
    listed = ", ".join(sorted(valid))

    def parse(value: Any) -> str:
        if type(value) is not str or value not in valid:
            raise FieldError(f"{shown(value)} is not one of: {listed}")
        return value

    parse.openapi = {"type": "string", "enum": sorted(valid)}
    parse.json_type = parse.text_type = Literal[tuple(sorted(valid))]
    return parse


def number(*, min_value: float | None = None, max_value: float | None = None) -> Parser:
    def parse(value: Any) -> float:
        kind = type(value)
        if kind is float:
            result = value
        elif kind is int:
            try:
                result = float(value)
            except OverflowError:
                raise FieldError("Must be a finite number; this one is too large") from None
        elif kind is str:
            try:
                result = float(value)
            except ValueError:
                raise FieldError(f"Must be a number, not {shown(value)}") from None
        else:
            raise FieldError("Must be a number")
        if not math.isfinite(result):
            raise FieldError("Must be a finite number, not NaN or Infinity")
        if min_value is not None and result < min_value:
            raise FieldError(f"Must be at least {min_value:g}")
        if max_value is not None and result > max_value:
            raise FieldError(f"Must be at most {max_value:g}")
        return result

    parse.openapi = _bounds({"type": "number"}, min_value, max_value)
    # Bounds always, so that NaN and the infinities fail as they do above.
    parse.json_type = _msgspec_type(
        float,
        ge=-sys.float_info.max if min_value is None else min_value,
        le=sys.float_info.max if max_value is None else max_value,
    )
    return parse


# Whole numbers are stored in 64-bit columns (bigint): a count past them is refused by name
# here, not met as an overflow by the database.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def integer(*, min_value: int = INT64_MIN, max_value: int = INT64_MAX) -> Parser:
    def parse(value: Any) -> int:
        kind = type(value)
        if kind is int:
            result = value
        elif kind is float and value.is_integer():
            result = int(value)
        elif kind is str and value.strip().lstrip("+-").isdigit():
            try:
                result = int(value)
            except ValueError:  # "+-1", a digit int() does not read ("²"), 5000 digits
                raise FieldError(f"Must be a whole number, not {shown(value)}") from None
        else:
            raise FieldError(f"Must be a whole number, not {shown(value)}")
        if result < min_value:
            raise FieldError(f"Must be at least {min_value}")
        if result > max_value:
            raise FieldError(f"Must be at most {max_value}")
        return result

    parse.openapi = {"type": "integer", "format": "int64"}
    parse.openapi.update(minimum=min_value, maximum=max_value)
    parse.json_type = _msgspec_type(int, ge=min_value, le=max_value)
    return parse


_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})


def boolean() -> Parser:
    def parse(value: Any) -> bool:
        if type(value) is bool:
            return value
        if type(value) is str:
            lowered = value.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
        raise FieldError(f"Must be true or false, not {shown(value)}")

    parse.openapi = {"type": "boolean"}
    parse.json_type = bool
    return parse


# Reports start in 2000 (their year is 2000 to 2100): an earlier record could never be reported.
EARLIEST_YEAR = 2000


def timestamp() -> Parser:
    """ISO 8601 from 2000 on; a time without an offset is taken as UTC. Returned in UTC."""

    def parse(value: Any) -> datetime:
        if type(value) is not str:
            raise FieldError("Must be an ISO 8601 date-time string, e.g. 2026-01-10T08:00:00Z")
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            elif moment.utcoffset():
                moment = moment.astimezone(UTC)  # OverflowError past year 1 or 9999
            elif moment.tzinfo is not UTC:
                moment = moment.replace(tzinfo=UTC)
        except (ValueError, OverflowError):
            raise FieldError(
                f"Not an ISO 8601 date-time: {shown(value)} (e.g. 2026-01-10T08:00:00Z)"
            ) from None
        if moment.year < EARLIEST_YEAR:  # in UTC: the same as before 2000-01-01T00:00Z
            raise FieldError("Must be in 2000 or later")
        return moment

    parse.openapi = {
        "type": "string",
        "format": "date-time",
        "description": "ISO 8601, UTC when no offset is given; from 2000-01-01T00:00:00Z",
    }
    # No json_type: msgspec reads RFC 3339, not all that fromisoformat reads, so timestamps
    # are parsed here, after the msgspec pass.
    return parse


def tags(*, max_tags: int = 50, max_key: int = 60, max_value: int = 200) -> Parser:
    def parse(value: Any) -> dict[str, str]:
        if type(value) is not dict:
            raise FieldError('Must be an object of string values, e.g. {"project": "atlas"}')
        if len(value) > max_tags:
            raise FieldError(f"At most {max_tags} tags")
        clean = {}
        for key, item in value.items():
            if not key or len(key) > max_key:
                raise FieldError(f"Tag names must have 1 to {max_key} characters")
            if type(item) is str:
                pass
            elif type(item) in (int, float) and math.isfinite(item):
                item = str(item)
            else:
                raise FieldError(f"Tag {shown(key)} must be a string")
            if len(item) > max_value:
                raise FieldError(f"Tag {shown(key)} has more than {max_value} characters")
            _refuse_nul(key)
            _refuse_nul(item)
            clean[key] = item
        return clean

    parse.openapi = {
        "type": "object",
        "additionalProperties": {"type": "string", "maxLength": max_value},
        "maxProperties": max_tags,
    }
    # A CSV reader hands tags over as a dict (inventory.ingestion.parsers.CsvRecords).
    parse.json_type = parse.text_type = _msgspec_type(
        dict[
            _msgspec_type(str, min_length=1, max_length=max_key),
            _msgspec_type(str, max_length=max_value),
        ],
        max_length=max_tags,
    )
    return parse


@dataclass(frozen=True)
class Field:
    name: str
    parse: Parser
    required: bool = False
    default: Any = MISSING
    # A field added after records of its kind were first stored enters their content hash
    # only when a record gives it (a value other than None and its default): the hashes
    # already stored, and with them duplicates and locked reports' input hashes, never change.
    hashed_when_given: bool = False
    # A field an importer derives from the line's other, hashed content (the instance type of
    # a billing line's usage type) describes the record without being part of it: never
    # hashed, so a file imported before importers filled it re-imports as duplicates.
    hashed: bool = True


# What names a record rather than being part of it: re-sent with other content, a conflict.
IDENTITY_FIELD = "external_id"


@dataclass(frozen=True)
class ContentFields:
    """The fields whose values make a record what it is; a re-sent id must match on them."""

    always: tuple[str, ...]
    when_given: tuple[tuple[str, Any], ...] = ()  # (name, default)

    @property
    def names(self) -> tuple[str, ...]:
        return self.always + tuple(name for name, _ in self.when_given)


@dataclass(frozen=True)
class Check:
    """A cross-field rule over the fields it `reads`: it runs on a record whose fields it reads
    all parsed or were left out (optional ones), so a bad row gets its cross-field problems
    named with its fields' ones."""

    reads: tuple[str, ...]
    find: Callable[[dict[str, Any], "BatchContext"], list[tuple[str, str]]]
    rule: str  # the rule in words, for the OpenAPI schema


@dataclass(frozen=True)
class BatchContext:
    """Per-batch values the cross-field checks use (computed once, not per row)."""

    future_horizon: datetime


MAX_NAME, MAX_MESSAGE = 200, 1000


@dataclass
class RowErrors:
    """Errors by row; past `limit` they are counted, not kept (a bad 1 GB file is not 1 GB)."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    limit: int = 1000
    count: int = 0

    def add(self, row: int, field_name: str, message: str, line: int | None = None) -> None:
        self.count += 1
        if len(self.errors) < self.limit:
            # Each bounded too: a field name or message may carry megabytes that were sent;
            # and a NUL, which Postgres cannot keep in the import job's jsonb, is shown escaped.
            entry: dict[str, Any] = {
                "row": row,
                "field": field_name[:MAX_NAME].replace("\x00", "\\x00"),
                "message": message[:MAX_MESSAGE].replace("\x00", "\\x00"),
            }
            if line is not None:
                entry["line"] = line
            self.errors.append(entry)

    def __bool__(self) -> bool:
        return self.count > 0

    def error(self, message: str, *, status_code: int = 400) -> ApplicationError:
        """The errors kept, as the API's error, saying how many more there were."""
        more = self.count - len(self.errors)
        suffix = f" ({more} more errors not shown)" if more > 0 else ""
        return ApplicationError(f"{message}{suffix}", errors=self.errors, status_code=status_code)


@dataclass(frozen=True)
class RecordSchema:
    """The fields of one record kind, with its cross-field checks."""

    name: str
    fields: tuple[Field, ...]
    checks: tuple[Check, ...] = ()
    # Other tools' payloads (CodeCarbon) grow new fields: ignore those instead of refusing.
    allow_unknown: bool = False

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    @cached_property
    def content_fields(self) -> ContentFields:
        content = [f for f in self.fields if f.name != IDENTITY_FIELD and f.hashed]
        return ContentFields(
            always=tuple(f.name for f in content if not f.hashed_when_given),
            when_given=tuple((f.name, f.default) for f in content if f.hashed_when_given),
        )

    def validate_one(
        self, raw: Any, context: BatchContext
    ) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
        """One record: (clean values, []) or (None, [(field, message), ...])."""
        record, found = self.check_one(raw, context)
        return (None, found) if found else (record, [])

    def check_one(
        self, raw: Any, context: BatchContext
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """One record: the values that parsed (defaults filled in) and every problem found:
        each bad or missing field, unknown fields, and the cross-field checks whose fields
        parsed. With no problem, the values are the clean record.

        The hot path of row-by-row ingestion: it walks the values sent (most records leave
        several fields out) and looks at the schema's order only to word errors.
        """
        if type(raw) is not dict:
            message = raw.message if type(raw) is RowProblem else "Must be a JSON object"
            return {}, [("non_field_errors", message)]
        found: list[tuple[str, str]] = []
        names = self._names
        if not self.allow_unknown and not raw.keys() <= names:
            for unknown in sorted(raw.keys() - names):
                found.append((str(unknown), f"Unknown field; valid fields: {self._listed}"))
        clean: dict[str, Any] = {}
        refused: dict[str, str] = {}
        parsers = self._parsers
        for name, value in raw.items():
            if value is None or value == "":
                continue  # absent: required or defaulted below
            parse = parsers.get(name)
            if parse is None:
                continue
            try:
                clean[name] = parse(value)
            except FieldError as error:
                refused[name] = str(error)
        if refused or not self._required <= clean.keys():
            for spec in self.fields:
                if spec.name in refused:
                    found.append((spec.name, refused[spec.name]))
                elif spec.required and spec.name not in clean:
                    found.append((spec.name, "This field is required"))
                    refused[spec.name] = "missing"
            found.extend(self._partly_completed(clean, context, refused))
        else:
            found.extend(self._completed(clean, context))
        return clean, found

    def _completed(self, clean: dict[str, Any], context: BatchContext) -> list[tuple[str, str]]:
        """Defaults filled in a record whose fields all parsed; what the cross-field checks
        find wrong with it."""
        for name, default in self._defaults:
            if name not in clean:
                clean[name] = default
        return [problem for find in self._finds for problem in find(clean, context)]

    def _partly_completed(
        self, clean: dict[str, Any], context: BatchContext, refused: dict[str, str]
    ) -> list[tuple[str, str]]:
        """`_completed` for a record some of whose fields were `refused` (bad or missing):
        their defaults are not filled in, and only the checks reading none of them run."""
        for name, default in self._defaults:
            if name not in clean and name not in refused:
                clean[name] = default
        return [
            problem
            for check in self.checks
            if refused.keys().isdisjoint(check.reads)
            for problem in check.find(clean, context)
        ]

    def validate_one_pass(
        self, rows: list[Any], context: BatchContext, values: str
    ) -> list[dict[str, Any]] | None:
        """Every row checked in one msgspec pass (in C, several times faster than
        `validate_one` a row): the clean records, as `validate_one` gives them, or None if any
        row needs `validate_one` (it has an error to word, or a value only the parsers take).
        `values`: "json" or "text" (CSV), in a body with no NUL (RawRows.one_pass)."""
        batch_type, parsed_after = self._one_pass[values]
        try:
            records = msgspec.to_builtins(msgspec.convert(rows, batch_type))
        except msgspec.ValidationError:
            return None
        for record in records:
            for name, parse in parsed_after:
                value = record.get(name, MISSING)
                if value is MISSING:
                    continue
                if value is None or value == "":
                    return None
                try:
                    record[name] = parse(value)
                except FieldError:
                    return None
            if self._completed(record, context):
                return None
        return records

    def __post_init__(self) -> None:
        fields = self.fields
        derived = {
            "_names": frozenset(f.name for f in fields),
            "_listed": ", ".join(f.name for f in fields),
            "_parsers": {f.name: f.parse for f in fields},
            "_required": frozenset(f.name for f in fields if f.required),
            "_defaults": tuple((f.name, f.default) for f in fields if f.default is not MISSING),
            "_finds": tuple(check.find for check in self.checks),
            "_one_pass": {values: self._pass_over(values) for values in ("json", "text")},
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def _pass_over(self, values: str) -> tuple[Any, tuple[tuple[str, Parser], ...]]:
        """The msgspec type of a batch in a pass over `values` ("json" or "text"): a list of
        structs; and the fields parsed after it: those whose parser names no type for them
        (anything, in the struct). Optional fields left out are UNSET, which to_builtins
        leaves out too."""
        attribute = f"{values}_type"

        def struct_field(spec: Field) -> tuple:
            kind = getattr(spec.parse, attribute, Any)
            if spec.required:
                return (spec.name, kind)
            return (spec.name, kind if kind is Any else kind | msgspec.UnsetType, msgspec.UNSET)

        required_first = sorted(self.fields, key=lambda f: not f.required)
        struct = msgspec.defstruct(
            f"{self.name}_{values}",
            [struct_field(f) for f in required_first],
            forbid_unknown_fields=not self.allow_unknown,
        )
        parsed_after = tuple(
            (f.name, f.parse) for f in self.fields if not hasattr(f.parse, attribute)
        )
        return list[struct], parsed_after

    def openapi(self) -> dict[str, Any]:
        """The record as an OpenAPI object schema, from the same field specs that validate."""
        properties = {}
        for spec in self.fields:
            prop = dict(getattr(spec.parse, "openapi", {}))
            if spec.default is not MISSING:
                prop["default"] = spec.default
            # JSON Schema cannot say "after started_at": the rules across fields are words.
            rules = [check.rule for check in self.checks if spec.name in check.reads]
            if rules:
                prop["description"] = " ".join(filter(None, [prop.get("description"), *rules]))
            properties[spec.name] = prop
        described = {"description": " ".join(c.rule for c in self.checks)} if self.checks else {}
        return {
            "type": "object",
            **described,
            "properties": properties,
            "required": [spec.name for spec in self.fields if spec.required],
            "additionalProperties": False,
        }

    def validate(
        self,
        rows: list[Any],
        context: BatchContext,
        *,
        lines: list[int] | None = None,
        one_pass: str | None = None,
        references: Callable[[list[dict[str, Any]]], "ReferenceCheck"] | None = None,
    ) -> tuple[list[dict[str, Any]], RowErrors]:
        """Every row; the clean records (only if no row failed) and every row's problems.

        `one_pass` ("json" or "text", from RawRows.one_pass): a clean batch is checked in one
        pass (`validate_one_pass`). When any row fails, `references` (given the values that
        parsed, of every row at once) names each row's references to unknown objects too, so
        one answer names every problem."""
        if one_pass:
            clean_rows = self.validate_one_pass(rows, context, one_pass)
            if clean_rows is not None:
                return clean_rows, RowErrors()
        check_one = self.check_one
        checked = [check_one(raw, context) for raw in rows]
        errors = RowErrors()
        if not any(found for _, found in checked):
            return [record for record, _ in checked], errors
        unknown = references([record for record, _ in checked]) if references else None
        for row, (record, found) in enumerate(checked):
            line = lines[row] if lines is not None else None
            for field_name, message in found:
                errors.add(row, field_name, message, line)
            for field_name, message in unknown.problems(record) if unknown else ():
                errors.add(row, field_name, message, line)
        return [], errors


class ReferenceCheck(Protocol):
    """What names the references of a record to objects that do not exist
    (inventory.ingestion.services.References)."""

    def problems(self, record: dict[str, Any]) -> list[tuple[str, str]]: ...
