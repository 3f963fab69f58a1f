"""Scope 2 market-based method (GHG Protocol Scope 2 Guidance): contractual instruments first.

Each line of consumption is covered by the organisation's instruments valid for its market
(zone) and period, best kind first; what is left is priced at the zone's residual mix, or at
its grid average when no residual mix exists (flagged on the line). An instrument's MWh are
claimed once in total across all lines, never twice.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from inventory.calculation import validation
from inventory.calculation.errors import CalculationError


class InstrumentKind(StrEnum):
    EAC = "eac"  # energy attribute certificate: REC, GO, I-REC
    PPA = "ppa"  # power purchase agreement, with its attributes
    GREEN_TARIFF = "green_tariff"
    SUPPLIER_SPECIFIC = "supplier_specific"  # the supplier's own emission rate


# Allocation order, best first (Scope 2 Guidance hierarchy; docs/methodology.md).
HIERARCHY: tuple[InstrumentKind, ...] = (
    InstrumentKind.EAC,
    InstrumentKind.PPA,
    InstrumentKind.GREEN_TARIFF,
    InstrumentKind.SUPPLIER_SPECIFIC,
)
_RANK = {kind: rank for rank, kind in enumerate(HIERARCHY)}

_LABELS = {
    InstrumentKind.EAC: "EAC",
    InstrumentKind.PPA: "PPA",
    InstrumentKind.GREEN_TARIFF: "green tariff",
    InstrumentKind.SUPPLIER_SPECIFIC: "supplier-specific rate",
}

ResidualBasis = Literal["residual_mix", "grid_average"]


def _day(name: str, value: object) -> date:
    # datetime is a date subclass, but comparing the two raises: refuse it up front.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise CalculationError(f"{name} must be a date, got {value!r}")
    return value


def _label(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise CalculationError(f"{name} must be a non-empty string, got {value!r}")
    return value


@dataclass(frozen=True)
class Consumption:
    """One line of Scope 2 facility energy to price; key is opaque to the engine."""

    key: str  # e.g. "team:model:zone:2026-01"
    zone: str
    period_start: date
    period_end: date
    kwh: float

    def __post_init__(self) -> None:
        _label("key", self.key)
        _label("zone", self.zone)
        if _day("period_start", self.period_start) > _day("period_end", self.period_end):
            raise CalculationError(f"line {self.key}: period_start is after period_end")
        object.__setattr__(self, "kwh", validation.non_negative("kwh", self.kwh))


@dataclass(frozen=True)
class Instrument:
    """A contractual instrument: MWh with a factor, for one market (zone) and validity period."""

    id: int
    kind: InstrumentKind
    zone: str
    valid_from: date
    valid_to: date
    mwh: float
    kg_per_kwh: float
    reference: str

    def __post_init__(self) -> None:
        validation.count("id", self.id, minimum=0)
        try:
            object.__setattr__(self, "kind", InstrumentKind(self.kind))
        except ValueError:
            raise CalculationError(f"unknown instrument kind {self.kind!r}") from None
        _label("zone", self.zone)
        if _day("valid_from", self.valid_from) > _day("valid_to", self.valid_to):
            raise CalculationError(f"instrument {self.id}: valid_from is after valid_to")
        object.__setattr__(self, "mwh", validation.non_negative("mwh", self.mwh))
        object.__setattr__(
            self, "kg_per_kwh", validation.non_negative("kg_per_kwh", self.kg_per_kwh)
        )
        if not isinstance(self.reference, str):
            raise CalculationError(f"reference must be a string, got {self.reference!r}")

    def applies_to(self, line: Consumption) -> bool:
        """Same market, and the whole consumption period lies within the validity period."""
        return (
            self.zone == line.zone
            and self.valid_from <= line.period_start
            and line.period_end <= self.valid_to
        )


@dataclass(frozen=True)
class Allocation:
    """kWh of one line covered by one instrument: ``kg = kwh * kg_per_kwh``."""

    instrument_id: int
    kind: InstrumentKind
    kwh: float
    kg: float
    kg_per_kwh: float
    reference: str


@dataclass(frozen=True)
class MarketLine:
    """A priced line: ``kg = sum(allocation kg, left to right) + residual_kwh * factor``."""

    key: str
    zone: str
    kwh: float
    covered: tuple[Allocation, ...]
    residual_kwh: float
    residual_factor_kg_per_kwh: float
    residual_basis: ResidualBasis
    kg: float

    @property
    def covered_kwh(self) -> float:
        total = 0.0
        for allocation in self.covered:
            total += allocation.kwh
        return total


def _residual_factor(
    zone: str, residual_mix: Mapping[str, float], grid_average: Mapping[str, float]
) -> tuple[float, ResidualBasis]:
    if residual_mix.get(zone) is not None:
        return validation.non_negative(f"residual_mix[{zone}]", residual_mix[zone]), "residual_mix"
    if grid_average.get(zone) is not None:
        return validation.non_negative(f"grid_average[{zone}]", grid_average[zone]), "grid_average"
    raise CalculationError(f"no residual mix and no grid average for zone {zone}")


def _checked(items: Sequence[object], cls: type, what: str) -> None:
    for item in items:
        if not isinstance(item, cls):
            raise CalculationError(f"{what} must be {cls.__name__} objects, got {item!r}")


def allocate_market_based(
    *,
    consumption: Sequence[Consumption],
    instruments: Sequence[Instrument],
    residual_mix: Mapping[str, float],
    grid_average: Mapping[str, float],
) -> list[MarketLine]:
    """Price each consumption line by the market-based method; lines come back in input order.

    An instrument applies to a line when the zones are equal and the line's period lies
    within the instrument's validity (both ends inclusive). Lines are taken in
    (period_start, key) order and, for each, instruments in (hierarchy rank, valid_from, id)
    order; each takes ``min(line kWh left, instrument kWh left)``, the instrument holding
    ``mwh * 1000.0`` kWh in total across all lines, so no MWh is claimed twice. The rest of a
    line is priced at residual_mix[zone], else grid_average[zone] with residual_basis
    "grid_average" (the disclosure flag). The allocation is greedy and deterministic, not an
    optimiser: an earlier line may use an instrument that a later one could also have used.

    Raises CalculationError for a zone with neither factor, duplicate instrument ids or line
    keys (either would double count), and invalid inputs.
    """
    _checked(consumption, Consumption, "consumption")
    _checked(instruments, Instrument, "instruments")
    keys = [line.key for line in consumption]
    if len(set(keys)) != len(keys):
        raise CalculationError("consumption keys must be unique")
    ids = [instrument.id for instrument in instruments]
    if len(set(ids)) != len(ids):
        raise CalculationError("instrument ids must be unique: one instrument, one claim")

    ordered_instruments = sorted(instruments, key=lambda i: (_RANK[i.kind], i.valid_from, i.id))
    left_in = {instrument.id: instrument.mwh * 1000.0 for instrument in instruments}
    order = sorted(
        range(len(consumption)),
        key=lambda n: (consumption[n].period_start, consumption[n].key),
    )

    priced: dict[int, MarketLine] = {}
    for n in order:
        line = consumption[n]
        factor, basis = _residual_factor(line.zone, residual_mix, grid_average)
        remaining = line.kwh
        allocations: list[Allocation] = []
        for instrument in ordered_instruments:
            if remaining <= 0.0:
                break
            available = left_in[instrument.id]
            if available <= 0.0 or not instrument.applies_to(line):
                continue
            take = min(remaining, available)
            left_in[instrument.id] = available - take
            remaining = remaining - take
            allocations.append(
                Allocation(
                    instrument_id=instrument.id,
                    kind=instrument.kind,
                    kwh=take,
                    kg=take * instrument.kg_per_kwh,
                    kg_per_kwh=instrument.kg_per_kwh,
                    reference=instrument.reference,
                )
            )
        # Left to right, not sum(): Python 3.12's sum() compensates and would change the bits.
        covered_kg = 0.0
        for allocation in allocations:
            covered_kg += allocation.kg
        priced[n] = MarketLine(
            key=line.key,
            zone=line.zone,
            kwh=line.kwh,
            covered=tuple(allocations),
            residual_kwh=remaining,
            residual_factor_kg_per_kwh=factor,
            residual_basis=basis,
            kg=covered_kg + remaining * factor,
        )
    return [priced[n] for n in range(len(consumption))]


def allocated_kwh_by_instrument(lines: Sequence[MarketLine]) -> dict[int, float]:
    """kWh claimed from each instrument across the lines (for the unused-balance disclosure)."""
    claimed: dict[int, float] = {}
    for line in lines:
        for allocation in line.covered:
            claimed[allocation.instrument_id] = (
                claimed.get(allocation.instrument_id, 0.0) + allocation.kwh
            )
    return claimed


def _kwh_text(value: float) -> str:
    text = f"{value:.10g}"
    return text if "." in text or "e" in text else f"{text}.0"


def explain(line: MarketLine) -> str:
    """The line in words, e.g. "120.0 kWh covered by EAC #3 GO-2026-001 at 0 kg/kWh;
    30.0 kWh at residual mix 0.431 kg/kWh"."""
    parts = []
    for allocation in line.covered:
        name = f"{_LABELS[allocation.kind]} #{allocation.instrument_id}"
        if allocation.reference:
            name = f"{name} {allocation.reference}"
        parts.append(
            f"{_kwh_text(allocation.kwh)} kWh covered by {name} at {allocation.kg_per_kwh:g} kg/kWh"
        )
    if line.residual_kwh > 0.0 or not line.covered:
        factor = f"{line.residual_factor_kg_per_kwh:g} kg/kWh"
        if line.residual_basis == "residual_mix":
            parts.append(f"{_kwh_text(line.residual_kwh)} kWh at residual mix {factor}")
        else:
            parts.append(
                f"{_kwh_text(line.residual_kwh)} kWh at grid average {factor} "
                f"(no residual mix for {line.zone})"
            )
    return "; ".join(parts)
