"""Water of a record, and a facility's annual indicators (EU Delegated Regulation 2024/1364).

On-site water follows The Green Grid's WUE: site water (L) per kWh of IT energy, so
litres = IT kWh × WUE (``it_kwh * wue``, as the SQL pipeline evaluates it). A record's own
measured water takes precedence; without a measurement or a WUE the water is "not available"
(None), never 0. docs/methodology.md §Water compares this with CodeCarbon's convention.
"""

from dataclasses import dataclass
from enum import StrEnum

from inventory.calculation import validation


class WaterTier(StrEnum):
    """Where a record's on-site water came from, best first."""

    MEASURED = "measured"
    FACILITY = "facility"  # the organisation's WUE setting for the facility and day
    PROVIDER = "provider"  # the cloud provider's published WUE for the region


@dataclass(frozen=True)
class OnsiteWater:
    litres: float | None
    tier: WaterTier | None
    wue: float | None  # the WUE applied (None when measured or not available)


def onsite_water(
    *,
    it_kwh: float | None,
    measured_l: float | None = None,
    facility_wue: float | None = None,
    provider_wue: float | None = None,
) -> OnsiteWater:
    """The record's measured water, else IT kWh × the facility's WUE, else × the provider's."""
    if measured_l is not None:
        return OnsiteWater(validation.non_negative("water_l", measured_l), WaterTier.MEASURED, None)
    if it_kwh is None:
        return OnsiteWater(None, None, None)
    for wue, tier in ((facility_wue, WaterTier.FACILITY), (provider_wue, WaterTier.PROVIDER)):
        if wue is not None:
            wue = validation.non_negative("wue", wue)
            return OnsiteWater(validation.non_negative("it_kwh", it_kwh) * wue, tier, wue)
    return OnsiteWater(None, None, None)


@dataclass(frozen=True)
class FacilityIndicators:
    """One facility's year as Delegated Regulation (EU) 2024/1364 Annex II reads it.

    pue = total facility energy ÷ IT energy; wue = site water ÷ IT energy (L/kWh);
    ref (renewable energy factor) = renewable energy ÷ total facility energy; energy by
    source splits the facility energy into renewable and non-renewable (ESRS E1-5). Each is
    None when its inputs are not available.
    """

    it_mwh: float
    facility_mwh: float
    pue: float | None
    water_m3: float | None
    wue: float | None
    renewable_mwh: float | None
    non_renewable_mwh: float | None
    ref: float | None


def facility_indicators(
    *,
    it_kwh: float,
    facility_kwh: float,
    water_l: float | None,
    water_it_kwh: float,
    renewable_kwh: float | None,
) -> FacilityIndicators:
    """The indicators from a year's sums. WUE is over the IT kWh of the records whose water is
    known (water_it_kwh), so a part of the year without a WUE does not dilute it. Renewable
    kWh beyond the facility's energy (more certificates than consumption) count up to the
    consumption: REF is at most 1."""
    it_kwh = validation.non_negative("it_kwh", it_kwh)
    facility_kwh = validation.non_negative("facility_kwh", facility_kwh)
    renewable = None
    if renewable_kwh is not None:
        renewable = min(validation.non_negative("renewable_kwh", renewable_kwh), facility_kwh)
    return FacilityIndicators(
        it_mwh=it_kwh / 1000.0,
        facility_mwh=facility_kwh / 1000.0,
        pue=facility_kwh / it_kwh if it_kwh else None,
        water_m3=None if water_l is None else water_l / 1000.0,
        wue=water_l / water_it_kwh if water_l is not None and water_it_kwh else None,
        renewable_mwh=None if renewable is None else renewable / 1000.0,
        non_renewable_mwh=None if renewable is None else (facility_kwh - renewable) / 1000.0,
        ref=renewable / facility_kwh if renewable is not None and facility_kwh else None,
    )
