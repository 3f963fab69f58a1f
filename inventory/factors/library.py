"""Load a version of the shipped factor library (inventory/factors/data) into the database."""

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

from django.db import transaction

from greenai_portal.errors import ApplicationError
from inventory.models import (
    CloudCoefficient,
    CloudInstanceEmbodied,
    CloudWue,
    EmbodiedFactor,
    FactorDataset,
    GridFactor,
    Hardware,
    Location,
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
    GridFactor.objects.bulk_create(
        GridFactor(
            dataset=dataset,
            zone=row["zone"],
            year=int(row["year"]),
            month=int(row["month"]) if row["month"] else None,
            period_start=date(int(row["year"]), int(row["month"] or 1), 1),
            kind=row["kind"],
            basis=row["basis"],
            kg_per_kwh=_optional_float(row["kg_co2e_per_kwh"]),
            **_provenance(row),
        )
        for row in _rows(directory, files["grid_factors"])
    )
    Hardware.objects.bulk_create(
        Hardware(
            dataset=dataset,
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            vendor=row["vendor"],
            unit=row["unit"],
            idle_w=float(row["idle_w"]),
            max_w=float(row["max_w"]),
            **_provenance(row),
        )
        for row in _rows(directory, files["hardware"])
    )
    EmbodiedFactor.objects.bulk_create(
        EmbodiedFactor(
            dataset=dataset,
            hardware_code=row["code"],
            device_kg=_optional_float(row["device_kg"]),
            host_share_kg=_optional_float(row["host_share_kg"]),
            kg_co2e=_optional_float(row["kg_co2e"]),
            lifetime_hours=_optional_float(row["lifetime_hours"]),
            **_provenance(row),
        )
        for row in _rows(directory, files["embodied"])
    )
    CloudInstanceEmbodied.objects.bulk_create(
        CloudInstanceEmbodied(
            dataset=dataset,
            provider=row["provider"],
            instance_type=row["instance_type"],
            vcpus=int(row["vcpus"]),
            family_vcpus=int(row["family_vcpus"]),
            kg_co2e=float(row["kg_co2e"]),
            lifetime_hours=float(row["lifetime_hours"]),
            **_provenance(row),
        )
        for row in _rows(directory, files["cloud_instance_embodied"])
    )
    ProviderPue.objects.bulk_create(
        ProviderPue(
            dataset=dataset,
            provider=row["provider"],
            pue=float(row["pue"]),
            year=int(row["year"]),
            **_provenance(row),
        )
        for row in _rows(directory, files["provider_pue"])
    )
    CloudCoefficient.objects.bulk_create(
        CloudCoefficient(
            dataset=dataset,
            key=row["key"],
            value=float(row["value"]),
            unit=row["unit"],
            **_provenance(row),
        )
        for row in _rows(directory, files["cloud_coefficients"])
    )
    ReplicationFactor.objects.bulk_create(
        ReplicationFactor(
            dataset=dataset,
            provider=row["provider"],
            service=row["service"],
            factor=float(row["factor"]),
            **_provenance(row),
        )
        for row in _rows(directory, files["replication_factors"])
    )
    CloudWue.objects.bulk_create(
        CloudWue(
            dataset=dataset,
            provider=row["provider"],
            region=row["region"],
            wue_l_per_kwh=float(row["wue_l_per_kwh"]),
            year=int(row["year"]),
            **_provenance(row),
        )
        for row in _rows(directory, files["cloud_wue"])
    )
    _cloud_regions_upsert(_rows(directory, files["cloud_regions"]))
    FactorDataset.objects.exclude(pk=dataset.pk).update(is_active=False)
    dataset.is_active = True
    dataset.save(update_fields=["is_active"])
    return dataset, True


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
