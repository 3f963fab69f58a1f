"""A model's training documentation as the EU AI Act asks it of general-purpose AI models.

Regulation (EU) 2024/1689, Annex XI, Section 1, point 2: "(d) the computational resources used
to train the model (e.g. number of floating point operations), training time, and other relevant
details related to the training; (e) known or estimated energy consumption of the model. With
regard to point (e), where the energy consumption of the model is unknown, the energy
consumption may be based on information about computational resources used."

Built from the model's training and fine-tuning workload records that the reader sees: their
times, devices and FLOPs as sent, and the energy the pipeline computed with its data-quality
tier — measured energy and metered power are known, energy modelled from the hardware's power
figures is estimated from the computational resources used.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, FloatField, Max, Min, Q, Sum
from django.utils import timezone

from accounts.principal import Principal
from inventory.models import (
    AiModel,
    ComputeStatus,
    EnergyTier,
    Hardware,
    Phase,
    WorkloadRecord,
)

DOCUMENTED_PHASES = (Phase.TRAINING, Phase.FINE_TUNING)
KNOWN_TIERS = (EnergyTier.MEASURED, EnergyTier.METERED)
ENERGY_METHODS = {
    EnergyTier.MEASURED: "Known: energy measured by the job (e.g. NVML/RAPL via CodeCarbon, a PDU)",
    EnergyTier.METERED: "Known: measured average power × devices × duration",
    EnergyTier.MODELLED: (
        "Estimated from the computational resources used: the hardware catalogue's idle and "
        "maximum power × utilisation × devices × duration"
    ),
}


@dataclass(frozen=True)
class HardwareUse:
    code: str
    name: str
    device_hours: float


@dataclass(frozen=True)
class TierEnergy:
    tier: str
    label: str
    method: str
    records: int
    it_kwh: float
    facility_kwh: float


@dataclass(frozen=True)
class PhaseDocumentation:
    phase: str
    label: str
    records: int
    records_computed: int
    first_start: datetime
    last_end: datetime
    # From the first job's start to the last job's end; jobs may overlap or pause between.
    wall_clock_hours: float
    job_hours: float
    device_hours: float
    hardware: list[HardwareUse]
    # None when no record carries its FLOPs: not available, not zero.
    flops: float | None
    flops_records: int
    # Energy and emissions of the computed records; None when none is computed yet.
    it_kwh: float | None
    facility_kwh: float | None
    location_kg: float | None
    energy_by_tier: list[TierEnergy] = field(default_factory=list)
    # "known", "estimated", "partly estimated" or None (nothing computed).
    energy_basis: str | None = None
    estimated_share: float | None = None


@dataclass(frozen=True)
class ModelDocumentation:
    model_id: int
    model_name: str
    organisation: str
    # False when the reader sees only their teams' records: the figures are theirs only.
    whole_organisation: bool
    generated_at: datetime
    phases: list[PhaseDocumentation]


def _energy_basis(tiers: list[TierEnergy]) -> tuple[str | None, float | None]:
    total = sum(t.it_kwh for t in tiers)
    if not tiers or total == 0:
        return None, None
    estimated = sum(t.it_kwh for t in tiers if t.tier not in KNOWN_TIERS) / total
    if estimated == 0:
        return "known", 0.0
    return ("estimated" if estimated == 1 else "partly estimated"), estimated


def model_documentation(*, principal: Principal, model: AiModel) -> ModelDocumentation:
    """The model's training and fine-tuning, per phase, from the records the principal sees."""
    records = principal.visible(
        WorkloadRecord.objects.filter(
            organisation_id=model.organisation_id,
            ai_model_id=model.id,
            phase__in=DOCUMENTED_PHASES,
        )
    )
    computed = Q(status=ComputeStatus.COMPUTED)
    device_seconds = Sum(F("duration_s") * F("device_count"), output_field=FloatField())
    by_phase = {
        row["phase"]: row
        for row in records.values("phase")
        .annotate(
            records=Count("id"),
            records_computed=Count("id", filter=computed),
            first_start=Min("started_at"),
            last_end=Max("ended_at"),
            job_seconds=Sum("duration_s"),
            device_seconds=device_seconds,
            flops_sum=Sum("flops"),
            flops_records=Count("flops"),
            it_kwh=Sum("it_kwh", filter=computed),
            facility_kwh=Sum("facility_kwh", filter=computed),
            location_kg=Sum("location_kg", filter=computed),
        )
        .order_by()
    }
    tiers: dict[str, list[TierEnergy]] = {}
    tier_rows = (
        records.filter(computed)
        .values("phase", "energy_tier")
        .annotate(records=Count("id"), it_kwh=Sum("it_kwh"), facility_kwh=Sum("facility_kwh"))
        .order_by("phase", "energy_tier")
    )
    for row in tier_rows:
        tier = EnergyTier(row["energy_tier"])
        tiers.setdefault(row["phase"], []).append(
            TierEnergy(
                tier=tier.value,
                label=tier.label,
                method=ENERGY_METHODS[tier],
                records=row["records"],
                it_kwh=row["it_kwh"] or 0.0,
                facility_kwh=row["facility_kwh"] or 0.0,
            )
        )
    hardware_rows = (
        records.filter(hardware__isnull=False)
        .values("phase", "hardware_id")
        .annotate(device_seconds=device_seconds)
        .order_by("phase", "-device_seconds")
    )
    hardware_ids = {row["hardware_id"] for row in hardware_rows}
    catalogue = {h.id: h for h in Hardware.objects.filter(id__in=hardware_ids)}
    hardware: dict[str, list[HardwareUse]] = {}
    for row in hardware_rows:
        device = catalogue[row["hardware_id"]]
        hardware.setdefault(row["phase"], []).append(
            HardwareUse(device.code, device.name, row["device_seconds"] / 3600.0)
        )

    phases = []
    for phase in DOCUMENTED_PHASES:
        row = by_phase.get(phase.value)
        if row is None:
            continue
        phase_tiers = tiers.get(phase.value, [])
        basis, estimated_share = _energy_basis(phase_tiers)
        phases.append(
            PhaseDocumentation(
                phase=phase.value,
                label=phase.label,
                records=row["records"],
                records_computed=row["records_computed"],
                first_start=row["first_start"],
                last_end=row["last_end"],
                wall_clock_hours=(row["last_end"] - row["first_start"]).total_seconds() / 3600.0,
                job_hours=row["job_seconds"] / 3600.0,
                device_hours=row["device_seconds"] / 3600.0,
                hardware=hardware.get(phase.value, []),
                flops=row["flops_sum"] if row["flops_records"] else None,
                flops_records=row["flops_records"],
                it_kwh=row["it_kwh"] if row["records_computed"] else None,
                facility_kwh=row["facility_kwh"] if row["records_computed"] else None,
                location_kg=row["location_kg"] if row["records_computed"] else None,
                energy_by_tier=phase_tiers,
                energy_basis=basis,
                estimated_share=estimated_share,
            )
        )
    return ModelDocumentation(
        model_id=model.id,
        model_name=model.name,
        organisation=model.organisation.name,
        whole_organisation=principal.sees_whole_organisation,
        generated_at=timezone.now(),
        phases=phases,
    )
