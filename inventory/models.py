from django.conf import settings
from django.db import models

from accounts.models import Organisation, Team


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
    kg_per_kwh = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "zone", "year", "month", "kind", "basis"],
                name="grid_factor_key",
            ),
        ]
        indexes = [models.Index(fields=["zone", "kind", "dataset", "period_start"])]

    def __str__(self) -> str:
        return f"{self.zone} {self.year} {self.kind} {self.basis}: {self.kg_per_kwh} kg/kWh"


class Hardware(Provenance):
    class Kind(models.TextChoices):
        GPU = "gpu", "GPU"
        TPU = "tpu", "TPU"
        CPU = "cpu", "CPU (per vCPU)"

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    vendor = models.CharField(max_length=60)
    unit = models.CharField(max_length=10)
    idle_w = models.FloatField()
    max_w = models.FloatField()
    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT)

    def __str__(self) -> str:
        return self.code


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


class Location(models.Model):
    """Where energy is used: a cloud region (shared, organisation empty) or an org's facility."""

    class Kind(models.TextChoices):
        OWNED = "owned", "Owned data centre"
        COLOCATION = "colocation", "Colocation"
        CLOUD = "cloud", "Public cloud region"

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="facilities"
    )
    code = models.CharField(max_length=80, help_text="e.g. aws:us-east-1 or paris-dc1")
    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    provider = models.CharField(max_length=20, blank=True)
    zone = models.CharField(max_length=40)
    pue = models.FloatField(null=True, blank=True)
    pue_source = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="location_code_per_org"),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(organisation__isnull=True),
                name="shared_location_code",
            ),
        ]

    def __str__(self) -> str:
        return self.code


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


class AiModel(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="ai_models"
    )
    name = models.CharField(max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="model_name_per_org"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IngestBatch(models.Model):
    class Source(models.TextChoices):
        API = "api", "REST API"
        CODECARBON = "codecarbon", "CodeCarbon"
        IMPORT = "import", "File import"
        DEMO = "demo", "Demo seed"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="batches")
    source = models.CharField(max_length=16, choices=Source.choices)
    token = models.ForeignKey("accounts.ApiToken", null=True, blank=True, on_delete=models.SET_NULL)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    received = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.source}, {self.created} new)"


class Phase(models.TextChoices):
    TRAINING = "training", "Training"
    FINE_TUNING = "fine_tuning", "Fine-tuning"
    INFERENCE = "inference", "Inference"
    OTHER = "other", "Other"


class ComputeStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be computed"
    COMPUTED = "computed", "Computed"
    FAILED = "failed", "Could not be computed"


class EnergyTier(models.TextChoices):
    MEASURED = "measured", "Measured energy"
    METERED = "metered", "Metered power"
    MODELLED = "modelled", "Modelled from hardware"


class EmissionScope(models.TextChoices):
    SCOPE2 = "scope2", "Scope 2"
    SCOPE3_CAT1 = "scope3_cat1", "Scope 3 category 1 (public cloud)"


class WorkloadRecord(models.Model):
    """One AI job or serving period as sent, with the result the pipeline computed for it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    batch = models.ForeignKey(IngestBatch, on_delete=models.PROTECT)
    external_id = models.CharField(max_length=200)
    content_hash = models.CharField(max_length=64)
    team = models.ForeignKey(Team, on_delete=models.PROTECT)
    ai_model = models.ForeignKey(AiModel, null=True, blank=True, on_delete=models.PROTECT)
    phase = models.CharField(max_length=16, choices=Phase.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    duration_s = models.FloatField()
    activity_date = models.DateField(help_text="UTC date of started_at: the rollup day")
    location = models.ForeignKey(Location, on_delete=models.PROTECT)
    hardware = models.ForeignKey(Hardware, null=True, blank=True, on_delete=models.PROTECT)
    device_count = models.PositiveIntegerField(default=1)
    energy_kwh = models.FloatField(null=True, blank=True)
    avg_power_w = models.FloatField(null=True, blank=True)
    utilization = models.FloatField(null=True, blank=True)
    pue = models.FloatField(null=True, blank=True, help_text="record override of the PUE")
    energy_includes_pue = models.BooleanField(default=False)
    inferences = models.BigIntegerField(null=True, blank=True)
    tokens = models.BigIntegerField(null=True, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    status = models.CharField(
        max_length=10, choices=ComputeStatus.choices, default=ComputeStatus.PENDING
    )
    energy_tier = models.CharField(max_length=10, choices=EnergyTier.choices, blank=True)
    scope = models.CharField(max_length=12, choices=EmissionScope.choices, blank=True)
    it_kwh = models.FloatField(null=True, blank=True)
    pue_used = models.FloatField(null=True, blank=True)
    facility_kwh = models.FloatField(null=True, blank=True)
    grid_factor = models.ForeignKey(
        GridFactor, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    factor_override = models.ForeignKey(
        FactorOverride, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    location_kg_per_kwh = models.FloatField(null=True, blank=True)
    location_kg = models.FloatField(null=True, blank=True)
    methodology_version = models.CharField(max_length=20, blank=True)
    compute_error = models.CharField(max_length=300, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_id"], name="workload_external_id_per_org"
            ),
        ]
        indexes = [
            models.Index(
                fields=["status"],
                name="workload_pending",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["organisation", "activity_date"], name="workload_org_day"),
        ]

    def __str__(self) -> str:
        return self.external_id


class DailyRollup(models.Model):
    """Sums of computed records per organisation × team × model × location × day."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    day = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    ai_model = models.ForeignKey(AiModel, null=True, on_delete=models.CASCADE)
    location = models.ForeignKey(Location, on_delete=models.CASCADE)
    phase = models.CharField(max_length=16, choices=Phase.choices)
    energy_tier = models.CharField(max_length=10, choices=EnergyTier.choices)
    scope = models.CharField(max_length=12, choices=EmissionScope.choices)
    record_count = models.PositiveIntegerField()
    it_kwh = models.FloatField()
    facility_kwh = models.FloatField()
    location_kg = models.FloatField()
    inferences = models.BigIntegerField(default=0)
    tokens = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organisation", "day"], name="rollup_org_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id}/{self.ai_model_id}"
