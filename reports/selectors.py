"""Footprint reads. Every query starts from the rollups of the caller's organisation."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncMonth

from accounts.principal import Principal
from inventory.models import DailyRollup, WorkloadRecord

GROUPINGS = {
    "team": ("team_id", "team__name"),
    "model": ("ai_model_id", "ai_model__name"),
    "month": ("month", "month"),
    "location": ("location_id", "location__code"),
    "scope": ("scope", "scope"),
}

SUMS = {
    "record_count": Sum("record_count"),
    "it_kwh": Sum("it_kwh"),
    "facility_kwh": Sum("facility_kwh"),
    "location_kg": Sum("location_kg"),
}


@dataclass(frozen=True)
class FootprintGroup:
    key: str
    label: str
    record_count: int
    it_kwh: float
    facility_kwh: float
    location_kg: float


def rollups_visible(*, principal: Principal, start: date, end: date) -> QuerySet[DailyRollup]:
    """Rollup rows of [start, end) that this principal may read."""
    rows = DailyRollup.objects.filter(
        organisation=principal.organisation, day__gte=start, day__lt=end
    )
    if principal.team_ids is not None:
        rows = rows.filter(team_id__in=principal.team_ids)
    return rows


def _text(value) -> str:
    if isinstance(value, date):
        return value.isoformat()[:7]
    return "" if value is None else str(value)


def _group(row: dict, label_field: str) -> FootprintGroup:
    return FootprintGroup(
        key=_text(row["key"]),
        label=_text(row[label_field]) or "(unspecified)",
        record_count=row["record_count"] or 0,
        it_kwh=row["it_kwh"] or 0.0,
        facility_kwh=row["facility_kwh"] or 0.0,
        location_kg=row["location_kg"] or 0.0,
    )


def footprint_summary(
    *, principal: Principal, start: date, end: date, group_by: str
) -> tuple[FootprintGroup, list[FootprintGroup]]:
    """Totals and one line per group for the period [start, end)."""
    rows = rollups_visible(principal=principal, start=start, end=end)
    key_field, label_field = GROUPINGS[group_by]
    if group_by == "month":
        rows = rows.annotate(month=TruncMonth("day"))
    grouped = (
        rows.values(key_field, label_field)
        .annotate(key=F(key_field), **SUMS)
        .order_by(label_field if group_by != "month" else "month")
    )
    totals = rows.aggregate(**SUMS)
    total = _group({"key": "total", "total": "Total", **totals}, "total")
    return total, [_group(row, label_field) for row in grouped]


def monthly_by_team(
    *, principal: Principal, start: date, end: date
) -> list[tuple[date, str, float, float]]:
    """(month, team, facility kWh, location kg) series for the trend chart."""
    rows = (
        rollups_visible(principal=principal, start=start, end=end)
        .annotate(month=TruncMonth("day"))
        .values("month", "team__name")
        .annotate(kwh=Sum("facility_kwh"), kg=Sum("location_kg"))
        .order_by("month", "team__name")
    )
    return [(r["month"], r["team__name"], r["kwh"], r["kg"]) for r in rows]


def pending_record_count(*, principal: Principal) -> dict[str, int]:
    rows = WorkloadRecord.objects.filter(organisation=principal.organisation)
    if principal.team_ids is not None:
        rows = rows.filter(team_id__in=principal.team_ids)
    counts = rows.values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in counts}
