"""Load a version of the shipped factor library (inventory/factors/data) into the database."""

import csv
import hashlib
import json
from collections.abc import Callable
from datetime import date
from importlib.metadata import version
from pathlib import Path

from django.db import transaction
from django.db.models import Model
from ecologits.electricity_mix_repository import electricity_mixes

from greenai_portal.errors import ApplicationError
from inventory.ingestion.countries import ALPHA3_TO_ALPHA2
from inventory.models import (
    CloudCoefficient,
    CloudInstanceEmbodied,
    CloudWue,
    EmbodiedFactor,
    FactorDataset,
    GridFactor,
    Hardware,
    Location,
    OffsiteWaterFactor,
    ProviderPue,
    ReplicationFactor,
    Zone,
)

DATA_DIR = Path(__file__).resolve().parent / "data"


def _rows(directory: Path, filename: str) -> list[dict[str, str]]:
    with (directory / filename).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _checksum(directory: Path, manifest: dict) -> str:
    digest = hashlib.sha256((directory / "manifest.json").read_bytes())
    for filename in sorted(manifest["files"].values()):
        digest.update((directory / filename).read_bytes())
    return digest.hexdigest()


def _provenance(row: dict[str, str]) -> dict[str, str]:
    return {"source": row["source"], "source_url": row["source_url"], "licence": row["licence"]}


def _optional_float(raw: str) -> float | None:
    return float(raw) if raw.strip() else None


def _grid_factor(row: dict[str, str]) -> dict:
    year = int(row["year"])
    month = int(row["month"]) if row["month"] else None
    return {
        "zone": row["zone"],
        "year": year,
        "month": month,
        "period_start": date(year, month or 1, 1),
        "kind": row["kind"],
        "basis": row["basis"],
        "kg_per_kwh": _optional_float(row["kg_co2e_per_kwh"]),
    }


def _hardware(row: dict[str, str]) -> dict:
    texts = {name: row[name] for name in ("code", "name", "kind", "vendor", "unit")}
    return {**texts, "idle_w": float(row["idle_w"]), "max_w": float(row["max_w"])}


def _embodied(row: dict[str, str]) -> dict:
    optional = ("device_kg", "host_share_kg", "kg_co2e", "lifetime_hours")
    return {"hardware_code": row["code"], **{k: _optional_float(row[k]) for k in optional}}


def _cloud_instance_embodied(row: dict[str, str]) -> dict:
    counts = {k: int(row[k]) for k in ("vcpus", "family_vcpus")}
    figures = {k: float(row[k]) for k in ("kg_co2e", "lifetime_hours")}
    return {"provider": row["provider"], "instance_type": row["instance_type"], **counts, **figures}


def _provider_pue(row: dict[str, str]) -> dict:
    return {"provider": row["provider"], "pue": float(row["pue"]), "year": int(row["year"])}


def _cloud_coefficient(row: dict[str, str]) -> dict:
    return {"key": row["key"], "value": float(row["value"]), "unit": row["unit"]}


def _replication(row: dict[str, str]) -> dict:
    return {"provider": row["provider"], "service": row["service"], "factor": float(row["factor"])}


def _cloud_wue(row: dict[str, str]) -> dict:
    return {
        "provider": row["provider"],
        "region": row["region"],
        "wue_l_per_kwh": float(row["wue_l_per_kwh"]),
        "year": int(row["year"]),
    }


# The figure tables of a version, in load order: the manifest's file key, the model, the
# fields of a CSV row (each row also cites its source, URL and licence: _provenance).
_FIGURE_TABLES: tuple[tuple[str, type[Model], Callable[[dict[str, str]], dict]], ...] = (
    ("grid_factors", GridFactor, _grid_factor),
    ("hardware", Hardware, _hardware),
    ("embodied", EmbodiedFactor, _embodied),
    ("cloud_instance_embodied", CloudInstanceEmbodied, _cloud_instance_embodied),
    ("provider_pue", ProviderPue, _provider_pue),
    ("cloud_coefficients", CloudCoefficient, _cloud_coefficient),
    ("replication_factors", ReplicationFactor, _replication),
    ("cloud_wue", CloudWue, _cloud_wue),
)


@transaction.atomic
def factor_dataset_load(*, directory: Path = DATA_DIR) -> tuple[FactorDataset, bool]:
    """Load the dataset in `directory` and make it the active one.

    Returns (dataset, created). Loading the same version again is a no-op; the same version
    with different content is refused, because results cite versions and must stay reproducible.
    """
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    checksum = _checksum(directory, manifest)
    existing = FactorDataset.objects.filter(
        name=manifest["name"], version=manifest["version"]
    ).first()
    if existing is not None:
        if existing.checksum != checksum:
            raise ApplicationError(
                f"Factor dataset {existing} is already loaded with other content; "
                "publish changed data as a new version"
            )
        return existing, False

    files = manifest["files"]
    dataset = FactorDataset.objects.create(
        name=manifest["name"],
        version=manifest["version"],
        published=date.fromisoformat(manifest["published"]) if manifest.get("published") else None,
        description=manifest.get("description", ""),
        checksum=checksum,
    )
    # Zones and cloud regions are shared by every version (a zone's code or a region's grid
    # does not depend on the factor figures) and upserted in bulk: a test database flushed
    # between tests reloads the whole library often. Figures, hardware power included, are
    # rows of this version.
    Zone.objects.bulk_create(
        [
            Zone(code=r["zone"], name=r["name"], country_iso=r["country_iso"], kind=r["kind"])
            for r in _rows(directory, files["zones"])
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "country_iso", "kind"],
    )
    for key, model, fields in _FIGURE_TABLES:
        model.objects.bulk_create(
            model(dataset=dataset, **fields(row), **_provenance(row))
            for row in _rows(directory, files[key])
        )
    OffsiteWaterFactor.objects.bulk_create(_offsite_water_factors(dataset, manifest))
    _cloud_regions_upsert(_rows(directory, files["cloud_regions"]))
    FactorDataset.objects.exclude(pk=dataset.pk).update(is_active=False)
    dataset.is_active = True
    dataset.save(update_fields=["is_active"])
    return dataset, True


# EcoLogits' warning on a mix whose water factor is the world average standing in for the
# country's own: such countries get no factor (off-site water not available).
WORLD_WATER_FALLBACK = "electricity-mix-wue-world"
OFFSITE_WATER_SOURCE = (
    "WRI and WSP, Guidance for Calculating Water Use Embedded in Purchased Electricity "
    "(working paper, 2020), country water consumption factor of generation; read from "
    "EcoLogits {version} ecologits/data/electricity_mixes.json (wue)"
)
OFFSITE_WATER_URL = (
    "https://www.wri.org/research/guidance-calculating-water-use-embedded-purchased-electricity"
)
OFFSITE_WATER_LICENCE = "MPL-2.0 (EcoLogits electricity_mixes.json); primary figures WRI/WSP 2020"


def _offsite_water_factors(dataset: FactorDataset, manifest: dict) -> list[OffsiteWaterFactor]:
    """One factor per country whose EcoLogits mix has a water factor of its own; none for a
    version that names no EcoLogits (before 2026.5). The installed EcoLogits must be the one
    the manifest names, or the same version would load other figures."""
    wanted, installed = manifest.get("offsite_water_ecologits"), version("ecologits")
    if wanted is None:
        return []
    if installed != wanted:
        raise ApplicationError(
            f"Factor dataset {manifest['version']} reads off-site water from ecologits {wanted}, "
            f"but {installed} is installed"
        )
    source = OFFSITE_WATER_SOURCE.format(version=installed)
    return [
        OffsiteWaterFactor(
            dataset=dataset,
            country_iso=ALPHA3_TO_ALPHA2[mix.zone],
            l_per_kwh=mix.wue,
            source=source,
            source_url=OFFSITE_WATER_URL,
            licence=OFFSITE_WATER_LICENCE,
        )
        for mix in electricity_mixes.list_electricity_mixes()
        if mix.zone in ALPHA3_TO_ALPHA2
        and WORLD_WATER_FALLBACK not in {warning.code for warning in mix.warnings}
    ]


def _cloud_regions_upsert(rows: list[dict[str, str]]) -> None:
    """Shared cloud-region locations by code (a conditional unique index, so no ON CONFLICT)."""
    existing = {loc.code: loc for loc in Location.objects.filter(organisation__isnull=True)}
    new, changed = [], []
    for row in rows:
        code = f"{row['provider']}:{row['region']}"
        location = existing.get(code) or Location(organisation=None, code=code)
        location.name = row["name"]
        location.kind = Location.Kind.CLOUD
        location.provider = row["provider"]
        location.zone = row["zone"]
        location.pue = _optional_float(row["pue"])
        location.pue_source = row["pue_source"]
        (changed if location.pk else new).append(location)
    Location.objects.bulk_create(new)
    Location.objects.bulk_update(changed, ["name", "kind", "provider", "zone", "pue", "pue_source"])


def active_dataset() -> FactorDataset:
    dataset = FactorDataset.objects.filter(is_active=True).first()
    if dataset is None:
        raise ApplicationError(
            "No factor dataset is loaded; run `python manage.py load_factors`", status_code=503
        )
    return dataset
