"""What if a team's or a model's workloads of a period had run elsewhere?

The same IT energy, re-priced at each candidate location of the organisation (its facilities,
and the cloud regions its records use): the candidate's PUE, the grid factor of its zone for
each day (location-based), and its zone's residual mix (market-based: what buying no
instruments there would give; a cloud region's Scope 3 has no market-based figure), its WUE
(on-site water) and its electricity tariff (cost; a cloud region's bill is not re-priced).
The WUE and tariff of a day are picked as the pipeline picks them. Nothing stored changes.
Candidates are ranked by location-based t CO2e, lowest first.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from accounts.principal import Principal
from inventory.calculation.methodology import DEFAULT_FACILITY_PUE
from inventory.factors.library import active_dataset
from inventory.models import (
    CloudWue,
    DailyRollup,
    ElectricityTariff,
    EmissionScope,
    FacilityWue,
    FactorKind,
    Location,
    ProviderPue,
)
from inventory.pipeline.market import ZoneFactors


@dataclass(frozen=True)
class Candidate:
    location_id: int
    code: str
    name: str
    zone: str
    scope: str
    pue: float
    pue_source: str
    facility_kwh: float
    location_kg: float | None  # None: a day without a grid factor for the zone
    market_kg: float | None  # None: not applicable (cloud) or no residual mix nor grid average
    # On-site water: IT kWh × the candidate's WUE of each day (its facility setting, or its
    # provider's published regional figure); None when a day has none.
    water_l: float | None
    # Energy cost at the facility's tariff of each day (one currency); None for a cloud region
    # (billed per instance, not re-priced) or a day without a tariff.
    cost: float | None
    currency: str
    change_location_kg: float | None
    change_market_kg: float | None
    is_current: bool  # all of the selection ran here


@dataclass(frozen=True)
class WhatIf:
    start: date
    end: date
    team_id: int | None
    model_id: int | None
    it_kwh: float
    current_facility_kwh: float
    current_location_kg: float
    current_market_kg: float | None  # None: part of it not applicable or not allocated
    current_water_l: float | None  # None: part of it has no water figure
    candidates: list[Candidate]


def _pue(location: Location, provider_pues: dict[str, ProviderPue]) -> tuple[float, str]:
    if location.pue is not None:
        return location.pue, location.pue_source or "facility setting"
    provider = location.provider if location.kind == Location.Kind.CLOUD else "default"
    published = provider_pues.get(provider)
    if published is not None:
        return published.pue, f"{published.source} ({published.year})"
    return DEFAULT_FACILITY_PUE, "methodology default"


def _priced(
    it_by_day: dict[date, float], pue: float, zone: str, factors: ZoneFactors, kind: str
) -> float | None:
    """kg of the days' IT energy × PUE at the zone's factor of each day; a residual mix the
    publisher gives none for falls back to the grid average (as the market allocation does);
    None when a day has no factor at all."""
    total = 0.0
    for day, kwh in it_by_day.items():
        factor = factors.pick(zone, kind, day)
        if factor is None and kind == FactorKind.RESIDUAL_MIX:
            factor = factors.pick(zone, FactorKind.GRID_AVERAGE, day)
        if factor is None:
            return None
        total += kwh * pue * factor.kg_per_kwh
    return total


def _valid_on(rows: list, day: date):
    """The row valid on `day`, latest start first (as the pipeline picks WUE and tariffs)."""
    valid = [r for r in rows if r.valid_from <= day <= r.valid_to]
    return max(valid, key=lambda r: (r.valid_from, r.id)) if valid else None


def _water(
    location: Location, it_by_day: dict[date, float], facility_wue: list, cloud_wue
) -> float | None:
    total = 0.0
    for day, kwh in it_by_day.items():
        row = cloud_wue if location.kind == Location.Kind.CLOUD else _valid_on(facility_wue, day)
        if row is None:
            return None
        total += kwh * row.wue_l_per_kwh
    return total


def _cost(
    location: Location, it_by_day: dict[date, float], pue: float, tariffs: list
) -> tuple[float | None, str]:
    if location.kind == Location.Kind.CLOUD:
        return None, ""
    total, currencies = 0.0, set()
    for day, kwh in it_by_day.items():
        tariff = _valid_on(tariffs, day)
        if tariff is None:
            return None, ""
        total += kwh * pue * tariff.price_per_kwh
        currencies.add(tariff.currency)
    if len(currencies) != 1:  # never added across currencies
        return None, ""
    return total, currencies.pop()


def _difference(value: float | None, current: float | None) -> float | None:
    return None if value is None or current is None else value - current


def what_if(
    *,
    principal: Principal,
    start: date,
    end: date,
    team_id: int | None = None,
    model_id: int | None = None,
) -> WhatIf:
    rollups = principal.visible(DailyRollup.objects.all()).filter(day__gte=start, day__lt=end)
    if team_id is not None:
        rollups = rollups.filter(team_id=team_id)
    if model_id is not None:
        rollups = rollups.filter(ai_model_id=model_id)
    it_by_day: dict[date, float] = defaultdict(float)
    current = {"facility": 0.0, "location": 0.0, "market": 0.0, "market_na": False, "water": 0.0}
    water_complete = True
    used_locations: set[int] = set()
    rows = rollups.values("day", "location_id", "scope").annotate(
        it=Sum("it_kwh"), facility=Sum("facility_kwh"), kg=Sum("location_kg"),
        market=Sum("market_kg"), records=Sum("record_count"), water=Sum("water_onsite_l"),
        water_records=Sum("water_record_count"),
    )  # fmt: skip
    for row in rows:
        water_complete = water_complete and row["water_records"] == row["records"]
        current["water"] += row["water"] or 0.0
        it_by_day[row["day"]] += row["it"] or 0.0
        used_locations.add(row["location_id"])
        current["facility"] += row["facility"] or 0.0
        current["location"] += row["kg"] or 0.0
        if row["scope"] != EmissionScope.SCOPE2 or row["market"] is None:
            current["market_na"] = True
        else:
            current["market"] += row["market"]
    organisation = principal.organisation
    candidates = Location.objects.filter(organisation=organisation) | Location.objects.filter(
        organisation__isnull=True, kind=Location.Kind.CLOUD, id__in=used_locations
    )
    candidates = list(candidates.order_by("code"))
    dataset = active_dataset()
    provider_pues = {p.provider: p for p in ProviderPue.objects.filter(dataset=dataset)}
    factors = ZoneFactors(organisation, {c.zone for c in candidates})
    facility_wue, tariffs = defaultdict(list), defaultdict(list)
    for row in FacilityWue.objects.filter(organisation=organisation):
        facility_wue[row.location_id].append(row)
    for row in ElectricityTariff.objects.filter(organisation=organisation):
        tariffs[row.location_id].append(row)
    cloud_wue = {
        f"{row.provider}:{row.region}": row for row in CloudWue.objects.filter(dataset=dataset)
    }
    it_kwh = sum(it_by_day.values())
    current_market = None if current["market_na"] else current["market"]
    priced = []
    for location in candidates:
        pue, pue_source = _pue(location, provider_pues)
        scope = (
            EmissionScope.SCOPE3_CAT1
            if location.kind == Location.Kind.CLOUD
            else EmissionScope.SCOPE2
        )
        location_kg: float | None = 0.0
        market_kg: float | None = None if scope == EmissionScope.SCOPE3_CAT1 else 0.0
        for day, kwh in it_by_day.items():
            facility = kwh * pue
            grid = factors.pick(location.zone, FactorKind.GRID_AVERAGE, day)
            location_kg = (
                None
                if grid is None or location_kg is None
                else location_kg + facility * grid.kg_per_kwh
            )
            if market_kg is not None:
                residual = factors.pick(location.zone, FactorKind.RESIDUAL_MIX, day) or grid
                market_kg = None if residual is None else market_kg + facility * residual.kg_per_kwh
        cost, currency = _cost(location, it_by_day, pue, tariffs[location.id])
        priced.append(
            Candidate(
                location_id=location.id,
                code=location.code,
                name=location.name,
                zone=location.zone,
                scope=scope,
                pue=pue,
                pue_source=pue_source,
                facility_kwh=it_kwh * pue,
                location_kg=location_kg,
                market_kg=market_kg,
                water_l=_water(
                    location, it_by_day, facility_wue[location.id], cloud_wue.get(location.code)
                ),
                cost=cost,
                currency=currency,
                change_location_kg=None
                if location_kg is None
                else location_kg - current["location"],
                change_market_kg=None
                if market_kg is None or current_market is None
                else market_kg - current_market,
                is_current=used_locations == {location.id},
            )
        )
    priced.sort(key=lambda c: (c.location_kg is None, c.location_kg or 0.0, c.code))
    return WhatIf(
        start=start,
        end=end,
        team_id=team_id,
        model_id=model_id,
        it_kwh=it_kwh,
        current_facility_kwh=current["facility"],
        current_location_kg=current["location"],
        current_market_kg=current_market,
        current_water_l=current["water"] if water_complete else None,
        candidates=priced,
    )
