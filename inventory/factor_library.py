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
    FactorDataset,
    GridFactor,
    Hardware,
    Location,
    ProviderPue,
    ReplicationFactor,
    Zone,
)

DATA_DIR = Path(__file__).resolve().parent / "factors" / "data"


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
    for row in _rows(directory, files["zones"]):
        Zone.objects.update_or_create(
            code=row["zone"],
            defaults={"name": row["name"], "country_iso": row["country_iso"], "kind": row["kind"]},
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
            kg_per_kwh=float(row["kg_co2e_per_kwh"]),
            **_provenance(row),
        )
        for row in _rows(directory, files["grid_factors"])
    )
    for row in _rows(directory, files["hardware"]):
        Hardware.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "kind": row["kind"],
                "vendor": row["vendor"],
                "unit": row["unit"],
                "idle_w": float(row["idle_w"]),
                "max_w": float(row["max_w"]),
                "dataset": dataset,
                **_provenance(row),
            },
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
    for row in _rows(directory, files["cloud_regions"]):
        Location.objects.update_or_create(
            organisation=None,
            code=f"{row['provider']}:{row['region']}",
            defaults={
                "name": row["name"],
                "kind": Location.Kind.CLOUD,
                "provider": row["provider"],
                "zone": row["zone"],
                "pue": _optional_float(row["pue"]),
                "pue_source": row["pue_source"],
            },
        )
    FactorDataset.objects.exclude(pk=dataset.pk).update(is_active=False)
    dataset.is_active = True
    dataset.save(update_fields=["is_active"])
    return dataset, True


def active_dataset() -> FactorDataset:
    dataset = FactorDataset.objects.filter(is_active=True).first()
    if dataset is None:
        raise ApplicationError(
            "No factor dataset is loaded; run `python manage.py load_factors`", status_code=503
        )
    return dataset
