from django.conf import settings
from django.db import models

from accounts.models import Organisation


class FactorKind(models.TextChoices):
    GRID_AVERAGE = "grid_average", "Grid average (location-based)"
    RESIDUAL_MIX = "residual_mix", "Residual mix (market-based)"


class FactorBasis(models.TextChoices):
    DIRECT = "direct", "Direct (combustion)"
    LIFECYCLE = "lifecycle", "Lifecycle"


class FactorDataset(models.Model):
    """One loaded version of the shipped factor library."""

    name = models.CharField(max_length=80)
    version = models.CharField(max_length=40)
    published = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the data files")
    is_active = models.BooleanField(default=False)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="dataset_name_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class Provenance(models.Model):
    source = models.CharField(max_length=300)
    source_url = models.URLField(max_length=500, blank=True)
    licence = models.CharField(max_length=120)

    class Meta:
        abstract = True


class Zone(models.Model):
    """A grid zone: a country (ISO alpha-2) or a subnational grid such as an eGRID subregion."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    country_iso = models.CharField(max_length=2)
    kind = models.CharField(max_length=20)

    def __str__(self) -> str:
        return self.code


class GridFactor(Provenance):
    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT, related_name="factors")
    zone = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField(null=True, blank=True)
    # First day the factor describes, so SQL can pick "latest not after the activity date".
    period_start = models.DateField()
    kind = models.CharField(max_length=20, choices=FactorKind.choices)
    basis = models.CharField(max_length=12, choices=FactorBasis.choices)
    # Empty only for a residual mix the publisher prints as not available (AIB's "NA": full
    # disclosure). The row stops an older year's mix from being carried forward.
    kg_per_kwh = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kg_per_kwh__isnull=False) | models.Q(kind="residual_mix"),
                name="grid_average_has_a_figure",
            ),
            models.UniqueConstraint(
                fields=["dataset", "zone", "year", "month", "kind", "basis"],
                name="grid_factor_key",
            ),
        ]
        indexes = [models.Index(fields=["zone", "kind", "dataset", "period_start"])]

    def __str__(self) -> str:
        return f"{self.zone} {self.year} {self.kind} {self.basis}: {self.kg_per_kwh} kg/kWh"


class Hardware(Provenance):
    """A power model of a device (per device) or CPU microarchitecture (per vCPU), per dataset.

    Versioned like every factor row: each dataset version has its own rows, so a result keeps
    the figures it was computed with. A record names the row of the version active when it
    arrived (its device); computing picks the row of the same code in the version in use.
    """

    class Kind(models.TextChoices):
        GPU = "gpu", "GPU"
        TPU = "tpu", "TPU"
        CPU = "cpu", "CPU (per vCPU)"

    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    vendor = models.CharField(max_length=60)
    unit = models.CharField(max_length=10)
    idle_w = models.FloatField()
    max_w = models.FloatField()
    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "code"], name="hardware_key"),
        ]

    def __str__(self) -> str:
        return self.code


class EmbodiedFactor(Provenance):
    """A device's cradle-to-gate emissions (its share of the host server included) and its
    expected lifetime, per dataset: amortised per device-hour of use (Scope 3 category 2 for
    owned and colocated hardware). No published figure: the row says so (kg_co2e empty)."""

    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT)
    hardware_code = models.SlugField(max_length=60)
    device_kg = models.FloatField(null=True, blank=True)
    host_share_kg = models.FloatField(null=True, blank=True)
    kg_co2e = models.FloatField(null=True, blank=True)
    lifetime_hours = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "hardware_code"], name="embodied_key"),
            models.CheckConstraint(
                condition=models.Q(kg_co2e__isnull=True)
                | models.Q(kg_co2e__gt=0, lifetime_hours__gt=0),
                name="embodied_figure_has_a_lifetime",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hardware_code}: {self.kg_co2e} kg CO2e over {self.lifetime_hours} h"


class CloudInstanceEmbodied(Provenance):
    """A cloud instance type's platform embodied kg CO2e (Cloud Carbon Footprint's
    per-instance coefficients), the vCPUs of its family's largest size and the platform's
    lifespan: a vCPU-hour carries ``kg_co2e / lifetime_hours / family_vcpus`` (CCF's
    embodied emissions, Scope 3 category 1 as part of the purchased service)."""

    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT)
    provider = models.CharField(max_length=8)
    instance_type = models.CharField(max_length=60)
    vcpus = models.PositiveIntegerField()
    family_vcpus = models.PositiveIntegerField()
    kg_co2e = models.FloatField()
    lifetime_hours = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "provider", "instance_type"], name="instance_embodied_key"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kg_co2e__gt=0, lifetime_hours__gt=0, family_vcpus__gte=models.F("vcpus")
                ),
                name="instance_embodied_figure_is_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.instance_type}: {self.kg_co2e} kg CO2e"


class ProviderPue(Provenance):
    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT)
    provider = models.CharField(max_length=20)
    pue = models.FloatField()
    year = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "provider"], name="provider_pue_key"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} PUE {self.pue}"


class CloudCoefficient(Provenance):
    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT)
    key = models.CharField(max_length=60)
    value = models.FloatField()
    unit = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "key"], name="cloud_coefficient_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} = {self.value} {self.unit}"


class ReplicationFactor(Provenance):
    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT)
    provider = models.CharField(max_length=20)
    service = models.CharField(max_length=60)
    factor = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "provider", "service"], name="replication_factor_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.service} ×{self.factor}"


class FactorOverride(models.Model):
    """An organisation's own factor for a zone and period, with a cited source."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="factor_overrides"
    )
    zone = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=FactorKind.choices)
    valid_from = models.DateField()
    valid_to = models.DateField()
    kg_per_kwh = models.FloatField()
    source = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.zone} {self.valid_from}–{self.valid_to}: {self.kg_per_kwh} kg/kWh"


class InstrumentKind(models.TextChoices):
    """GHG Protocol Scope 2 market-based hierarchy, best first."""

    EAC = "eac", "Energy attribute certificate (REC, GO, I-REC)"
    PPA = "ppa", "Power purchase agreement"
    GREEN_TARIFF = "green_tariff", "Green tariff"
    SUPPLIER_SPECIFIC = "supplier_specific", "Supplier-specific emission rate"


class ContractualInstrument(models.Model):
    """An organisation's contractual instrument for the market-based method."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="instruments"
    )
    kind = models.CharField(max_length=20, choices=InstrumentKind.choices)
    zone = models.CharField(max_length=40, help_text="the market: grid zone it may cover")
    valid_from = models.DateField()
    valid_to = models.DateField()
    mwh = models.FloatField()
    kg_per_kwh = models.FloatField(help_text="0 for renewable certificates")
    reference = models.CharField(max_length=200, help_text="certificate or contract reference")
    supplier = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference} ({self.mwh} MWh, {self.zone})"
