"""The audit trail behind a quarter's figures, never used for a figure: its raw inputs (count,
hash, batches), the factor rows and dataset versions they used, the records waiting or
stored after a lock, and the quarter's locked versions."""

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Max, Model

from accounts.principal import Principal
from greenai_portal import periods
from greenai_portal.db import consistent_read, large_read
from inventory.figures import FACILITY_ENERGY
from inventory.models import (
    CloudCoefficient,
    CloudInstanceEmbodied,
    CloudUsageRecord,
    CloudWue,
    ComputeStatus,
    ElectricityTariff,
    EmbodiedFactor,
    FacilityWue,
    FactorDataset,
    FactorOverride,
    GridFactor,
    Hardware,
    IngestBatch,
    Location,
    MarketAllocation,
    OffsiteWaterFactor,
    WorkloadRecord,
)
from reports.footprint_selectors import as_text
from reports.models import ReportVersion


def values_by_id(model: type[Model], ids: Iterable[int], *fields: str) -> dict[int, tuple]:
    """{id: (the `fields` of that row)} of the rows of `model` with these ids."""
    return {row[0]: row[1:] for row in model.objects.filter(id__in=ids).values_list("id", *fields)}


# --- Audit trail: the raw inputs behind a quarter (never used for a figure) ---------------

_HASHED_FIELDS = (
    "external_id",
    "content_hash",
    "status",
    "it_kwh",
    "facility_kwh",
    "location_kg",
    "grid_factor_id",
    "factor_override_id",
    "methodology_version",
)


@dataclass(frozen=True)
class QuarterInputs:
    record_count: int
    pending_count: int
    failed_count: int
    content_hash: str
    methodology_versions: list[str]
    batches: list[dict]
    grid_factor_ids: frozenset[int]
    override_ids: frozenset[int]
    hardware_ids: frozenset[int]
    coefficient_ids: frozenset[int]
    facility_wue_ids: frozenset[int] = frozenset()
    cloud_wue_ids: frozenset[int] = frozenset()
    offsite_water_ids: frozenset[int] = frozenset()
    embodied_ids: frozenset[int] = frozenset()
    instance_embodied_ids: frozenset[int] = frozenset()
    tariff_ids: frozenset[int] = frozenset()


# Factor rows a record names beside its grid factor: its power model, WUE row (both kinds),
# off-site water row, embodied row and, for workloads, its tariff; for cloud usage its
# coefficient and instance embodied row (not hashed: they follow from the hashed inputs).
_WATER_LINEAGE = ("facility_wue_id", "cloud_wue_id", "offsite_water_factor_id")
_LINEAGE_OF_KIND = (
    (
        "W",
        WorkloadRecord,
        ("power_model_id", *_WATER_LINEAGE, "embodied_factor_id", "tariff_id"),
    ),
    (
        "C",
        CloudUsageRecord,
        (
            "power_model_id",
            "coefficient_id",
            *_WATER_LINEAGE,
            "embodied_factor_id",
            "instance_embodied_id",
        ),
    ),
)
_GROUPED_FIELDS = (
    "status",
    "batch_id",
    "methodology_version",
    "grid_factor_id",
    "factor_override_id",
)


def _hash_value(value) -> str:
    # repr() of a float is its shortest exact form: the same number always hashes the same.
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def quarter_inputs(
    *, organisation_id: int, start: date, end: date, up_to: dict[str, int] | None = None
) -> QuarterInputs:
    """Count, hash and lineage of an organisation's records of [start, end) (only those at or
    below the `up_to` record ids, a lock's cut-off, when given).

    content_hash = SHA-256 over one line per record, workload records ("W") then cloud usage
    records ("C"), each sorted by external_id: kind|external_id|content_hash|status|it_kwh|
    facility_kwh|location_kg|grid_factor_id|factor_override_id|methodology_version; then one
    line per market allocation ("M") sorted by zone, month, basis, instrument: zone|month|basis|
    instrument_id|kwh|kg_per_kwh|kg. Same inputs and results → same hash.
    """
    digest = hashlib.sha256()
    count = pending = failed = 0
    versions: set[str] = set()
    batches: dict[int, int] = defaultdict(int)
    grid_ids: set[int] = set()
    override_ids: set[int] = set()
    lineage: dict[str, set[int]] = defaultdict(set)
    for kind, model, extra in _LINEAGE_OF_KIND:
        records = _records_of(model, organisation_id, start, end, up_to)
        # The hash needs every record in order; the rest is a few thousand distinct
        # combinations, grouped in SQL rather than gathered row by row in Python.
        lines = records.order_by("external_id").values_list(*_HASHED_FIELDS)
        for row in lines.iterator(chunk_size=20000):
            digest.update(("|".join([kind, *map(_hash_value, row)]) + "\n").encode())
        grouped = _GROUPED_FIELDS + extra
        with large_read():
            groups = list(records.order_by().values(*grouped).annotate(records=Count("id")))
        for group in groups:
            n = group["records"]
            count += n
            pending += n * (group["status"] == ComputeStatus.PENDING)
            failed += n * (group["status"] == ComputeStatus.FAILED)
            batches[group["batch_id"]] += n
            for column, into in (
                ("methodology_version", versions),
                ("grid_factor_id", grid_ids),
                ("factor_override_id", override_ids),
            ):
                if group[column]:
                    into.add(group[column])
            for column in extra:
                if group[column]:
                    lineage[column].add(group[column])
    allocations = (
        MarketAllocation.objects.filter(
            organisation_id=organisation_id, month__gte=start, month__lt=end
        )
        .order_by("zone", "month", "basis", "instrument_id", "id")
        .values_list(
            "zone",
            "month",
            "basis",
            "instrument_id",
            "kwh",
            "kg_per_kwh",
            "kg",
            "grid_factor_id",
            "factor_override_id",
            "methodology_version",
        )
    )
    for row in allocations:
        digest.update(("|".join(["M", *map(_hash_value, row[:7])]) + "\n").encode())
        if row[7]:
            grid_ids.add(row[7])
        if row[8]:
            override_ids.add(row[8])
        if row[9]:
            versions.add(row[9])
    batch_rows = IngestBatch.objects.filter(id__in=batches).order_by("id")
    return QuarterInputs(
        record_count=count,
        pending_count=pending,
        failed_count=failed,
        content_hash=digest.hexdigest(),
        methodology_versions=sorted(versions),
        batches=[
            {
                "id": b.id,
                "source": b.source,
                "created_at": b.created_at.isoformat(),
                "received": b.received,
                "created": b.created,
                "records_in_period": batches[b.id],
            }
            for b in batch_rows
        ],
        grid_factor_ids=frozenset(grid_ids),
        override_ids=frozenset(override_ids),
        hardware_ids=frozenset(lineage["power_model_id"]),
        coefficient_ids=frozenset(lineage["coefficient_id"]),
        facility_wue_ids=frozenset(lineage["facility_wue_id"]),
        cloud_wue_ids=frozenset(lineage["cloud_wue_id"]),
        offsite_water_ids=frozenset(lineage["offsite_water_factor_id"]),
        embodied_ids=frozenset(lineage["embodied_factor_id"]),
        instance_embodied_ids=frozenset(lineage["instance_embodied_id"]),
        tariff_ids=frozenset(lineage["tariff_id"]),
    )


def factor_rows(
    *,
    organisation_id: int,
    grid_factor_ids,
    override_ids,
    hardware_ids=(),
    coefficient_ids=(),
    facility_wue_ids=(),
    cloud_wue_ids=(),
    offsite_water_ids=(),
    embodied_ids=(),
    instance_embodied_ids=(),
    tariff_ids=(),
) -> list[dict]:
    """The factor rows a quarter's figures used, with their provenance; `id` is
    "<grid|override|hardware|coefficient|facility_wue|cloud_wue|offsite_water|embodied|
    instance_embodied|tariff>:<row id>"."""
    grid = GridFactor.objects.filter(id__in=grid_factor_ids).select_related("dataset")
    rows = [
        {
            "kind": f.kind,
            "zone": f.zone,
            "year": f.year,
            "month": f.month,
            "basis": f.basis,
            "kg_per_kwh": f.kg_per_kwh,
            "source": f.source,
            "source_url": f.source_url,
            "licence": f.licence,
            "dataset": f"{f.dataset.name} {f.dataset.version}",
            "id": f"grid:{f.id}",
        }
        for f in grid
    ]
    overrides = FactorOverride.objects.filter(organisation_id=organisation_id, id__in=override_ids)
    rows += [
        {
            "kind": f"override ({o.kind})",
            "zone": o.zone,
            "year": o.valid_from.year,
            "month": None,
            "basis": "",
            "kg_per_kwh": o.kg_per_kwh,
            "source": f"{o.source} (valid {o.valid_from} to {o.valid_to})",
            "source_url": "",
            "licence": "organisation's own figure",
            "dataset": "organisation override",
            "id": f"override:{o.id}",
        }
        for o in overrides
    ]
    # Power models and cloud coefficients describe no zone or year: listed after the grid rows.
    hardware = Hardware.objects.filter(id__in=hardware_ids).select_related("dataset")
    coefficients = CloudCoefficient.objects.filter(id__in=coefficient_ids).select_related("dataset")
    rows += [
        {
            "kind": f"hardware ({h.kind}, per {h.unit})",
            "zone": "",
            "year": None,
            "month": None,
            "basis": "",
            "kg_per_kwh": None,
            "idle_w": h.idle_w,
            "max_w": h.max_w,
            "source": f"{h.name}: {h.source}",
            "source_url": h.source_url,
            "licence": h.licence,
            "dataset": f"{h.dataset.name} {h.dataset.version}",
            "id": f"hardware:{h.id}",
        }
        for h in hardware
    ] + [
        {
            "kind": f"cloud coefficient ({c.key})",
            "zone": "",
            "year": None,
            "month": None,
            "basis": "",
            "kg_per_kwh": None,
            "value": c.value,
            "unit": c.unit,
            "source": c.source,
            "source_url": c.source_url,
            "licence": c.licence,
            "dataset": f"{c.dataset.name} {c.dataset.version}",
            "id": f"coefficient:{c.id}",
        }
        for c in coefficients
    ]
    rows += _wue_rows(organisation_id, facility_wue_ids, cloud_wue_ids)
    rows += _offsite_water_rows(offsite_water_ids)
    rows += _embodied_and_tariff_rows(organisation_id, embodied_ids, tariff_ids)
    rows += _instance_embodied_rows(instance_embodied_ids)
    return sorted(
        rows, key=lambda r: (r["zone"], r["kind"], r["year"] or 0, r["month"] or 0, r["id"])
    )


def _wue_rows(organisation_id: int, facility_wue_ids, cloud_wue_ids) -> list[dict]:
    """The WUE rows behind on-site water: the organisation's facility settings and the
    providers' published regional figures (the WUE is in `value`, L per IT kWh)."""
    facility = FacilityWue.objects.filter(
        organisation_id=organisation_id, id__in=facility_wue_ids
    ).select_related("location")
    cloud = CloudWue.objects.filter(id__in=cloud_wue_ids).select_related("dataset")
    common = {"month": None, "basis": "", "kg_per_kwh": None, "unit": "L per IT kWh"}
    return [
        {
            **common,
            "kind": "WUE (facility setting)",
            "zone": w.location.code,
            "year": w.valid_from.year,
            "value": w.wue_l_per_kwh,
            "source": f"WUE {w.wue_l_per_kwh} L/kWh: {w.source} "
            f"(valid {w.valid_from} to {w.valid_to})",
            "source_url": "",
            "licence": "organisation's own figure",
            "dataset": "organisation setting",
            "id": f"facility_wue:{w.id}",
        }
        for w in facility
    ] + [
        {
            **common,
            "kind": "WUE (cloud region)",
            "zone": f"{w.provider}:{w.region}",
            "year": w.year,
            "value": w.wue_l_per_kwh,
            "source": f"WUE {w.wue_l_per_kwh} L/kWh: {w.source}",
            "source_url": w.source_url,
            "licence": w.licence,
            "dataset": f"{w.dataset.name} {w.dataset.version}",
            "id": f"cloud_wue:{w.id}",
        }
        for w in cloud
    ]


def _offsite_water_rows(offsite_water_ids) -> list[dict]:
    """The countries' water consumption of generation behind off-site water (L per
    facility kWh), from the factor library."""
    factors = OffsiteWaterFactor.objects.filter(id__in=offsite_water_ids).select_related("dataset")
    return [
        {
            "kind": "off-site water (generation)",
            "zone": f.country_iso,
            "year": None,
            "month": None,
            "basis": "",
            "kg_per_kwh": None,
            "value": f.l_per_kwh,
            "unit": "L per facility kWh",
            "source": f.source,
            "source_url": f.source_url,
            "licence": f.licence,
            "dataset": f"{f.dataset.name} {f.dataset.version}",
            "id": f"offsite_water:{f.id}",
        }
        for f in factors
    ]


# The factor rows of electricity tariffs (the audit PDF lists them beside the energy cost).
TARIFF_FACTOR_KIND = "electricity tariff"


def _embodied_and_tariff_rows(organisation_id: int, embodied_ids, tariff_ids) -> list[dict]:
    """The embodied rows (figure in the source: they are not kg per kWh) and the
    organisation's electricity tariffs a quarter's records used."""
    embodied = EmbodiedFactor.objects.filter(id__in=embodied_ids).select_related("dataset")
    tariffs = ElectricityTariff.objects.filter(
        organisation_id=organisation_id, id__in=tariff_ids
    ).select_related("location")
    blank = {"zone": "", "month": None, "basis": "", "kg_per_kwh": None}
    return [
        {
            **blank,
            "kind": "embodied (per device)",
            "year": None,
            # The figure, in the value column: None prints "not published" (no source has one).
            "value": e.kg_co2e,
            "unit": f"kg CO2e per device over {e.lifetime_hours:g} h" if e.lifetime_hours else "",
            "source": f"{e.hardware_code}: "
            + (
                f"{e.kg_co2e} kg CO2e over {e.lifetime_hours:g} h; "
                if e.kg_co2e is not None
                else ""
            )
            + e.source,
            "source_url": e.source_url,
            "licence": e.licence,
            "dataset": f"{e.dataset.name} {e.dataset.version}",
            "id": f"embodied:{e.id}",
        }
        for e in embodied
    ] + [
        {
            **blank,
            "kind": TARIFF_FACTOR_KIND,
            "year": t.valid_from.year,
            "value": t.price_per_kwh,
            "unit": f"{t.currency}/kWh",
            "source": f"{t.location.code}: {t.price_per_kwh} {t.currency}/kWh, {t.source} "
            f"(valid {t.valid_from} to {t.valid_to})",
            "source_url": "",
            "licence": "organisation's own figure",
            "dataset": "organisation tariff",
            "id": f"tariff:{t.id}",
        }
        for t in tariffs
    ]


def _instance_embodied_rows(instance_embodied_ids) -> list[dict]:
    """The cloud instance types whose platform vCPU-hours amortised (figures in the source)."""
    rows = CloudInstanceEmbodied.objects.filter(id__in=instance_embodied_ids)
    return [
        {
            "kind": "embodied (per cloud instance)",
            "zone": "",
            "year": None,
            "month": None,
            "basis": "",
            "kg_per_kwh": None,
            "value": e.kg_co2e,
            "unit": f"kg CO2e per instance over {e.lifetime_hours:g} h",
            "source": f"{e.provider} {e.instance_type}: {e.kg_co2e} kg CO2e over "
            f"{e.lifetime_hours:g} h and {e.family_vcpus} vCPUs; {e.source}",
            "source_url": e.source_url,
            "licence": e.licence,
            "dataset": f"{e.dataset.name} {e.dataset.version}",
            "id": f"instance_embodied:{e.id}",
        }
        for e in rows.select_related("dataset")
    ]


def quarter_factor_rows(*, organisation_id: int, inputs: QuarterInputs) -> list[dict]:
    """Every factor row a quarter's records and market allocation name: grid factors,
    overrides, power models, cloud coefficients, embodied rows and tariffs. What a lock stores
    and a draft PDF lists."""
    return factor_rows(
        organisation_id=organisation_id,
        grid_factor_ids=inputs.grid_factor_ids,
        override_ids=inputs.override_ids,
        hardware_ids=inputs.hardware_ids,
        coefficient_ids=inputs.coefficient_ids,
        facility_wue_ids=inputs.facility_wue_ids,
        cloud_wue_ids=inputs.cloud_wue_ids,
        offsite_water_ids=inputs.offsite_water_ids,
        embodied_ids=inputs.embodied_ids,
        instance_embodied_ids=inputs.instance_embodied_ids,
        tariff_ids=inputs.tariff_ids,
    )


_LINEAGE_FIELDS = {
    # record column -> the prefix of the factor row id it names
    "grid_factor_id": "grid",
    "factor_override_id": "override",
    "power_model_id": "hardware",
    "facility_wue_id": "facility_wue",
    "cloud_wue_id": "cloud_wue",
    "offsite_water_factor_id": "offsite_water",
    "embodied_factor_id": "embodied",
}


@consistent_read()
def quarter_factor_lines(*, principal: Principal, year: int, quarter: int) -> dict:
    """Which factor rows, dataset versions and methodology versions the figures of a quarter
    used: per location (the Scope 2 report's location lines and its cloud lines), from the
    computed records as they are now, and per zone and month of the market allocation.

    One GROUP BY per record table (set-based, no per-record Python). For a locked quarter
    the rows are those its latest version stored at the lock, figures as they were then
    (`locked_version` says which); a principal limited to teams gets the live rows.
    """
    period = periods.quarter(year, quarter)
    lines: dict[int, dict] = {}
    used: dict[str, set[int]] = defaultdict(set)
    datasets = {d.id: f"{d.name} {d.version}" for d in FactorDataset.objects.all()}
    for model, extra in (
        (WorkloadRecord, ("tariff_id",)),
        (CloudUsageRecord, ("coefficient_id", "instance_embodied_id")),
    ):
        records = principal.visible(
            model.objects.filter(
                activity_date__gte=period.start,
                activity_date__lt=period.end,
                status=ComputeStatus.COMPUTED,
            )
        )
        columns = ("location_id", *_LINEAGE_FIELDS, *extra, "factor_dataset_id")
        with large_read():
            groups = list(
                records.values(*columns, "methodology_version").annotate(n=Count("id")).order_by()
            )
        for group in groups:
            line = lines.setdefault(
                group["location_id"],
                {"records": 0, "factor_ids": set(), "datasets": set(), "methodology": set()},
            )
            line["records"] += group["n"]
            line["datasets"].add(datasets.get(group["factor_dataset_id"]))
            line["methodology"].add(group["methodology_version"])
            for column, prefix in (
                *_LINEAGE_FIELDS.items(),
                ("coefficient_id", "coefficient"),
                ("instance_embodied_id", "instance_embodied"),
                ("tariff_id", "tariff"),
            ):
                if group.get(column):
                    line["factor_ids"].add(f"{prefix}:{group[column]}")
                    used[prefix].add(group[column])
    # Allocations are the organisation's (no team): a principal limited to teams gets none.
    allocations = principal.visible(
        MarketAllocation.objects.filter(month__gte=period.start, month__lt=period.end), team=None
    ).order_by("zone", "month", "basis", "instrument_id", "id")
    market = []
    for a in allocations:
        factor = (
            f"grid:{a.grid_factor_id}"
            if a.grid_factor_id
            else f"override:{a.factor_override_id}"
            if a.factor_override_id
            else None
        )
        used["grid"].add(a.grid_factor_id)
        used["override"].add(a.factor_override_id)
        market.append(
            {
                "zone": a.zone,
                "month": a.month.isoformat(),
                "basis": a.basis,
                "instrument_id": a.instrument_id,
                "mwh": FACILITY_ENERGY.shown(a.kwh),
                "kg_per_kwh": a.kg_per_kwh,
                "factor_id": factor,
                "methodology_version": a.methodology_version,
            }
        )
    locations = values_by_id(Location, set(lines), "code", "zone", "kind")
    locked = (
        report_versions(principal=principal, year=year, quarter=quarter)[-1:]
        if principal.sees_whole_organisation
        else []
    )
    return {
        "year": year,
        "quarter": quarter,
        "locked_version": locked[0].version if locked else None,
        "period": period.as_dict(),
        "locations": sorted(
            (
                {
                    "key": as_text(location_id),
                    "code": locations[location_id][0],
                    "zone": locations[location_id][1],
                    "kind": locations[location_id][2],
                    "records": line["records"],
                    "factor_ids": sorted(line["factor_ids"]),
                    "factor_datasets": sorted(v for v in line["datasets"] if v),
                    "methodology_versions": sorted(v for v in line["methodology"] if v),
                }
                for location_id, line in lines.items()
            ),
            key=lambda line: line["code"],
        ),
        "market": market,
        "factors": locked[0].factors
        if locked
        else factor_rows(
            organisation_id=principal.organisation.id,
            grid_factor_ids=used["grid"] - {None},
            override_ids=used["override"] - {None},
            hardware_ids=used["hardware"],
            coefficient_ids=used["coefficient"],
            facility_wue_ids=used["facility_wue"],
            cloud_wue_ids=used["cloud_wue"],
            offsite_water_ids=used["offsite_water"],
            embodied_ids=used["embodied"],
            instance_embodied_ids=used["instance_embodied"],
            tariff_ids=used["tariff"],
        ),
    }


_RECORD_MODELS = {"workload": WorkloadRecord, "cloud": CloudUsageRecord}


def _records_of(model, organisation_id: int, start: date, end: date, up_to: dict | None):
    records = model.objects.filter(
        organisation_id=organisation_id, activity_date__gte=start, activity_date__lt=end
    )
    if up_to is not None:
        kind = next(k for k, m in _RECORD_MODELS.items() if m is model)
        records = records.filter(id__lte=up_to[kind])
    return records


def pending_records(*, organisation_id: int, start: date, end: date, up_to: dict[str, int]) -> int:
    """Records of [start, end) at or below the `up_to` record ids still waiting to be computed."""
    return sum(
        _records_of(model, organisation_id, start, end, up_to)
        .filter(status=ComputeStatus.PENDING)
        .count()
        for model in _RECORD_MODELS.values()
    )


def last_record_ids() -> dict[str, int]:
    """The highest record ids stored now: a record with a higher id was stored later.

    Read from the primary keys, so instant; a lock keeps them to find late data quickly.
    """
    return {
        kind: model.objects.aggregate(last=Max("id"))["last"] or 0
        for kind, model in _RECORD_MODELS.items()
    }


def records_after(*, organisation_id: int, start: date, end: date, version: ReportVersion) -> int:
    """Records of [start, end) stored after `version` was locked: data that arrived late.

    With the record ids the lock kept this walks the primary keys above them; versions locked
    before those were kept compare created_at, a scan of the whole records table.
    """
    last_ids = (version.lineage or {}).get("last_record_ids")
    return sum(
        model.objects.filter(
            organisation_id=organisation_id,
            activity_date__gte=start,
            activity_date__lt=end,
            **({"id__gt": last_ids[kind]} if last_ids else {"created_at__gt": version.locked_at}),
        ).count()
        for kind, model in _RECORD_MODELS.items()
    )


def report_versions(*, principal: Principal, year: int, quarter: int) -> list[ReportVersion]:
    """The quarter's locked versions, oldest first; none for a principal limited to teams (a
    version covers the whole organisation)."""
    versions = ReportVersion.objects.filter(year=year, quarter=quarter)
    return list(principal.visible(versions, team=None).order_by("version"))
