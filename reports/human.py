"""Values as people read them in the audit PDF (and the annual report that reuses these): local
dates and times, words for codes, "—" for a figure that is not there."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from inventory.models import FactorBasis, FactorKind, Hardware, IngestBatch, InstrumentKind

MISSING = "—"
_FACTOR_KINDS = dict(FactorKind.choices)
_BASES = dict(FactorBasis.choices)
_HARDWARE_KINDS = dict(Hardware.Kind.choices)
_INSTRUMENT_KINDS = dict(InstrumentKind.choices)
_BATCH_SOURCES = dict(IngestBatch.Source.choices)


def local_time(value: datetime | str | None, time_zone: str) -> str:
    """A stored moment (a datetime or its ISO text) in the organisation's time zone, as
    "5 Dec 2026, 22:14 CET"; "—" when there is none."""
    if value in (None, ""):
        return MISSING
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(ZoneInfo(time_zone or "UTC"))
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def local_minute(value: datetime | str | None, time_zone: str) -> str:
    """A moment (or its ISO text) in the organisation's time zone, short for tables:
    "5 Jan 2026 14:03"."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(ZoneInfo(time_zone or "UTC"))
    return f"{local.day} {local:%b %Y %H:%M}"


def day(value: date | str | None) -> str:
    """A date (or its ISO text) as "1 Jul 2026"; "—" when there is none."""
    if value in (None, ""):
        return MISSING
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {value:%b %Y}"


def month(value: str) -> str:
    """ "2026-07" as "Jul 2026"."""
    return f"{date.fromisoformat(value[:7] + '-01'):%b %Y}"


def factor_kind(kind: str) -> str:
    """The kind of a factor row ("grid_average", "override (grid_average)", "hardware (gpu, per
    device)", "cloud coefficient (memory_kwh_per_gb_hour)") in words."""
    head, _, inner = kind.partition(" (")
    inner = inner.rstrip(")")
    if kind in _FACTOR_KINDS:
        return _FACTOR_KINDS[kind]
    if head == "override":
        return f"Organisation's own figure: {_FACTOR_KINDS.get(inner, inner).lower()}"
    if head == "hardware":
        device, _, unit = inner.partition(", ")
        return f"Power model ({_HARDWARE_KINDS.get(device, device)}, {unit})"
    if kind.startswith("cloud coefficient"):
        return f"Cloud Carbon Footprint coefficient: {inner.replace('_', ' ')}"
    return kind.replace("_", " ")


def factor_basis(basis: str) -> str:
    return _BASES.get(basis, basis) if basis else MISSING


def instrument_kind(kind: str) -> str:
    return _INSTRUMENT_KINDS.get(kind, kind.replace("_", " "))


def batch_source(source: str) -> str:
    """How a batch of records arrived ("api") in words ("REST API")."""
    return _BATCH_SOURCES.get(source, source)


@dataclass(frozen=True)
class Column:
    heading: str
    width: int
    right: bool = False  # figures: aligned on the right


def listing(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> list[str]:
    """Rows as fixed-width text lines under a heading line, for a monospace listing (in the
    PDF ten times faster to lay out than a table of as many cells). A value wider than its
    column continues on the next line, in its column: nothing is cut."""
    lines = [
        _line(columns, [c.heading for c in columns]),
        _line(columns, ["-" * c.width for c in columns]),
    ]
    for row in rows:
        parts = [
            [text[i : i + c.width] for i in range(0, len(text), c.width)] or [""]
            for c, text in zip(columns, row, strict=True)
        ]
        for n in range(max(len(p) for p in parts)):
            lines.append(_line(columns, [p[n] if n < len(p) else "" for p in parts]))
    return lines


def _line(columns: Sequence[Column], texts: Sequence[str]) -> str:
    cells = [
        t.rjust(c.width) if c.right else t.ljust(c.width)
        for c, t in zip(columns, texts, strict=True)
    ]
    return " ".join(cells).rstrip()
