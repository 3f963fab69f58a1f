"""Energy of a workload record: IT energy by data-quality tier, PUE, facility energy.

The SQL pipeline (inventory/pipeline.py) evaluates the same expressions in double precision,
so each docstring gives the exact expression, evaluated left to right; keep them in step.
"""

from dataclasses import dataclass
from enum import StrEnum

from inventory.calculation import validation
from inventory.calculation.errors import CalculationError
from inventory.calculation.methodology import DEFAULT_FACILITY_PUE, DEFAULT_UTILIZATION


class EnergyTier(StrEnum):
    """Which rule produced the IT energy: the data-quality tier stored with every result."""

    MEASURED = "measured"
    METERED = "metered"
    MODELLED = "modelled"


@dataclass(frozen=True)
class PowerProfile:
    """Power draw of one device (or one vCPU) when idle and at full load, in watts."""

    idle_w: float
    max_w: float

    def __post_init__(self) -> None:
        idle = validation.non_negative("idle_w", self.idle_w)
        peak = validation.non_negative("max_w", self.max_w)
        if peak < idle:
            raise CalculationError(f"max_w ({peak}) must not be below idle_w ({idle})")
        # Stored as floats so the power model rounds as a double, as the SQL does.
        object.__setattr__(self, "idle_w", idle)
        object.__setattr__(self, "max_w", peak)


@dataclass(frozen=True)
class ItEnergy:
    """IT energy in kWh, the tier that produced it, and the utilisation the model used.

    utilization is None unless the tier is MODELLED: measured and metered energy needs none.
    """

    kwh: float
    tier: EnergyTier
    utilization: float | None


def duration_hours(duration_s: float) -> float:
    """Hours in a duration given in seconds: ``duration_s / 3600.0``."""
    return validation.non_negative("duration_s", duration_s) / 3600.0


def it_energy(
    *,
    duration_s: float,
    device_count: int,
    energy_kwh: float | None = None,
    avg_power_w: float | None = None,
    power: PowerProfile | None = None,
    utilization: float | None = None,
) -> ItEnergy:
    """IT energy of a record, by the first rule that applies.

    1. measured: ``energy_kwh`` as given.
    2. metered: ``avg_power_w * device_count * duration_s / 3600000.0``
       (avg_power_w is the average power of one device).
    3. modelled: with ``u = utilization`` if given, else DEFAULT_UTILIZATION,
       ``(power.idle_w + u * (power.max_w - power.idle_w)) * device_count * duration_s
       / 3600000.0``.

    Every input given is checked, used or not: a bad value anywhere marks a bad record.
    Raises CalculationError when no rule applies (no energy, no power, no hardware) or an
    input is invalid (negative, NaN or infinite, utilisation outside 0..1, device_count < 1).
    """
    duration = validation.non_negative("duration_s", duration_s)
    devices = validation.count("device_count", device_count, minimum=1)
    measured = None if energy_kwh is None else validation.non_negative("energy_kwh", energy_kwh)
    metered = None if avg_power_w is None else validation.non_negative("avg_power_w", avg_power_w)
    given_u = None if utilization is None else validation.fraction("utilization", utilization)
    if power is not None and not isinstance(power, PowerProfile):
        raise CalculationError(f"power must be a PowerProfile, got {power!r}")

    if measured is not None:
        return ItEnergy(kwh=measured, tier=EnergyTier.MEASURED, utilization=None)
    if metered is not None:
        kwh = metered * devices * duration / 3600000.0
        return ItEnergy(kwh=kwh, tier=EnergyTier.METERED, utilization=None)
    if power is not None:
        u = given_u if given_u is not None else DEFAULT_UTILIZATION
        kwh = (power.idle_w + u * (power.max_w - power.idle_w)) * devices * duration / 3600000.0
        return ItEnergy(kwh=kwh, tier=EnergyTier.MODELLED, utilization=u)
    raise CalculationError(
        "no energy rule applies: give energy_kwh (measured), avg_power_w (metered) "
        "or the hardware's power profile (modelled)"
    )


@validation.finite_result
def facility_energy_kwh(*, it_kwh: float, pue: float, pue_included: bool = False) -> float:
    """Facility energy: ``it_kwh`` if pue_included else ``it_kwh * pue``.

    pue_included is for energy that already carries its PUE, such as CodeCarbon's
    energy_consumed: applying PUE to it again would count the overhead twice.
    """
    it = validation.non_negative("it_kwh", it_kwh)
    factor = validation.pue("pue", pue)
    return it if pue_included else it * factor


def resolve_pue(
    *, record_pue: float | None, facility_pue: float | None, provider_pue: float | None
) -> tuple[float, str]:
    """The PUE to use and where it came from, most specific first.

    record ("record") > the record's facility or cloud region ("facility") > the provider's
    published default ("provider_default") > DEFAULT_FACILITY_PUE ("methodology_default").
    A value that is given but invalid raises rather than silently falling through.
    """
    candidates = (
        ("record", "record_pue", record_pue),
        ("facility", "facility_pue", facility_pue),
        ("provider_default", "provider_pue", provider_pue),
    )
    for source, name, value in candidates:
        if value is not None:
            return validation.pue(name, value), source
    return DEFAULT_FACILITY_PUE, "methodology_default"
