from django.conf import settings
from django.db import models

from accounts.models import Organisation, Team
from inventory.models.factors import (
    CloudCoefficient,
    CloudInstanceEmbodied,
    ContractualInstrument,
    EmbodiedFactor,
    FactorDataset,
    FactorOverride,
    GridFactor,
    Hardware,
)
from inventory.models.locations import ElectricityTariff, Location
from inventory.models.water import CloudWue, FacilityWue, OffsiteWaterFactor, WaterTier


class OptimisationTechnique(models.TextChoices):
    """How a variant differs from its base model."""

    QUANTISATION = "quantisation", "Quantisation"
    PRUNING = "pruning", "Pruning"
    DISTILLATION = "distillation", "Distillation"
    MIXTURE_OF_EXPERTS = "mixture_of_experts", "Mixture of experts"
    SERVING = "serving", "Batching or serving change"
    HARDWARE = "hardware", "Hardware change"


class AiModel(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="ai_models"
    )
    name = models.CharField(max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)
    # A variant of another model of the organisation: how it was made from it, and why.
    base_model = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="variants"
    )
    technique = models.CharField(max_length=20, choices=OptimisationTechnique.choices, blank=True)
    precision = models.CharField(max_length=20, blank=True, help_text="quantised: e.g. int8, fp8")
    variant_note = models.CharField(max_length=500, blank=True)

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
        PROMETHEUS = "prometheus", "Prometheus GPU energy meters"
        OTLP = "otlp", "OpenTelemetry traces (OTLP)"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="batches")
    source = models.CharField(max_length=16, choices=Source.choices)
    token = models.ForeignKey("accounts.ApiToken", null=True, blank=True, on_delete=models.SET_NULL)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    received = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    # A compute task is queued for this batch and has not started: a batch that takes records
    # post after post (a CodeCarbon run's) queues one task, not one per post.
    compute_queued = models.BooleanField(default=False)
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


def lineage_key(to: type[models.Model]) -> models.ForeignKey:
    """A result column naming the row a figure used: no index, no database constraint (see
    ComputedResult), the ORM still PROTECTs the row."""
    return models.ForeignKey(
        to,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )


class ComputedResult(models.Model):
    """What the pipeline computed for a record, with the factor rows and versions it used."""

    status = models.CharField(
        max_length=10, choices=ComputeStatus.choices, default=ComputeStatus.PENDING
    )
    energy_tier = models.CharField(max_length=10, choices=EnergyTier.choices, blank=True)
    scope = models.CharField(max_length=12, choices=EmissionScope.choices, blank=True)
    it_kwh = models.FloatField(null=True, blank=True)
    pue_used = models.FloatField(null=True, blank=True)
    facility_kwh = models.FloatField(null=True, blank=True)
    # Result lineage columns carry no index and no database FK constraint: the pipeline writes
    # them for every record (an index or a deferred FK check each time would cost more than
    # the computation); the ORM still PROTECTs the factor rows they name.
    grid_factor = models.ForeignKey(
        GridFactor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    factor_override = models.ForeignKey(
        FactorOverride,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    location_kg_per_kwh = models.FloatField(null=True, blank=True)
    location_kg = models.FloatField(null=True, blank=True)
    # The hardware row of the dataset version in use whose watts modelled the energy (the
    # record's device, or the provider's unknown-CPU row for vCPU-hours naming none); empty
    # when the energy was measured or metered, or came from a cloud coefficient.
    power_model = models.ForeignKey(
        Hardware,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # Embodied emissions amortised over the device-hours used (Scope 3 category 2, beside
    # Scope 2, never added to it), with the row used; empty when no published figure applies.
    embodied_kg = models.FloatField(null=True, blank=True)
    embodied_factor = models.ForeignKey(
        EmbodiedFactor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # What the energy cost, in its own currency (never converted): the record's own or billed
    # cost, else facility kWh × the facility's tariff (the row used); empty without either.
    energy_cost = models.FloatField(null=True, blank=True)
    energy_cost_currency = models.CharField(max_length=3, blank=True)
    tariff = models.ForeignKey(
        ElectricityTariff,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The factor dataset version the result was computed with: a new version recalculates
    # the open periods whose records name another one.
    factor_dataset = models.ForeignKey(
        FactorDataset,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The recalculation that last marked this record pending (its progress counts these).
    recalculation_job = models.ForeignKey(
        "inventory.RecalculationJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # On-site water (litres): the record's own measurement, else IT kWh × the WUE used, with
    # the row that WUE came from; NULL when neither exists ("not available", never 0).
    water_onsite_l = models.FloatField(null=True, blank=True)
    # Defaults in the database too: raw inserts (bench/) that predate the column still work.
    water_tier = models.CharField(
        max_length=10, choices=WaterTier.choices, blank=True, default="", db_default=""
    )
    wue_used = models.FloatField(null=True, blank=True)
    facility_wue = lineage_key(FacilityWue)
    cloud_wue = lineage_key(CloudWue)
    # Off-site water (litres): facility kWh × the factor dataset's water consumption of
    # generation for the zone's country, the row named; NULL where the dataset has none.
    water_offsite_l = models.FloatField(null=True, blank=True)
    offsite_water_factor = lineage_key(OffsiteWaterFactor)
    # Market-based kg is allocated per organisation × zone × month (instruments cover
    # consumption, not records), then shared out pro rata to the rollups.
    methodology_version = models.CharField(max_length=20, blank=True)
    compute_error = models.CharField(max_length=300, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class SentRecord(models.Model):
    """What every record sent in carries: its tenant, batch, idempotency key and attribution.

    Its references carry no database FK constraint either: ingestion resolves every one from
    the organisation's own rows inside the writing transaction, and a deferred FK check per
    reference per row cost more than the rest of the insert (bench/ingest.py: 6 checks, about
    33 of 48 µs of Postgres time a record). The ORM still cascades and PROTECTs on delete.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, db_index=False, db_constraint=False
    )
    batch = models.ForeignKey(IngestBatch, on_delete=models.PROTECT, db_constraint=False)
    external_id = models.CharField(max_length=200)
    content_hash = models.CharField(max_length=64)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, db_index=False, db_constraint=False)
    ai_model = models.ForeignKey(
        AiModel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class IngestedRecord(ComputedResult, SentRecord):
    """A record of the organisation's own (or public cloud) computing, estimated by the
    pipeline: where it ran, and its tags."""

    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, db_index=False, db_constraint=False
    )
    tags = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


class WorkloadRecord(IngestedRecord):
    """One AI job or serving period as sent, with the result the pipeline computed for it."""

    phase = models.CharField(max_length=16, choices=Phase.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    duration_s = models.FloatField()
    activity_date = models.DateField(help_text="UTC date of started_at: the rollup day")
    hardware = models.ForeignKey(
        Hardware,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
    )
    device_count = models.PositiveIntegerField(default=1)
    energy_kwh = models.FloatField(null=True, blank=True)
    avg_power_w = models.FloatField(null=True, blank=True)
    utilization = models.FloatField(null=True, blank=True)
    pue = models.FloatField(null=True, blank=True, help_text="record override of the PUE")
    energy_includes_pue = models.BooleanField(default=False)
    inferences = models.BigIntegerField(null=True, blank=True)
    tokens = models.BigIntegerField(null=True, blank=True)
    flops = models.FloatField(
        null=True, blank=True, help_text="floating point operations, when the client counts them"
    )
    # Water the record measured itself (litres, e.g. CodeCarbon's water_consumed): it takes
    # precedence over a WUE (water_tier "measured").
    water_l = models.FloatField(null=True, blank=True)
    # What the job's electricity cost, when the sender knows it (else the facility tariff).
    cost = models.FloatField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_id"], name="workload_external_id_per_org"
            ),
        ]
        # Few indexes on purpose, and none on a column the pipeline writes: computing a record
        # then is a HOT update (the new row version stays on its page, no index is touched),
        # with the table's fillfactor leaving room for it (migrations 0004, 0008). So no index on
        # status: the pipeline's queue is the batches not yet computed (BatchComputation)
        # and the recalculation jobs. Foreign keys have no index of their own (deleting a team
        # or a location, rare, scans); reads go by organisation and day, by model and day
        # (the model page's latest records: 1.85 s at 5M records without it, a parallel
        # scan), or by batch.
        indexes = [
            # Postgres: covering, so a window's (location, day, hardware) keys come from an
            # index-only scan (INCLUDE is ignored elsewhere). The id, last, keeps the record
            # browser's newest-first page (day, id) an index range: without it, a page of 100
            # read and sorted the whole last day (~14k records at 5M a year, bench/records.py).
            models.Index(
                fields=["organisation", "activity_date", "id"],
                include=["location", "hardware"],
                name="workload_org_day_id",
            ),
            # Partial: only queries naming a model can use it. Whole, the planner took it for
            # a team's latest records too, reading every record of the organisation.
            models.Index(
                fields=["organisation", "ai_model", "activity_date"],
                condition=models.Q(ai_model__isnull=False),
                name="workload_org_model_day",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class UsageKind(models.TextChoices):
    COMPUTE = "compute", "vCPU-hours"
    GPU = "gpu", "GPU-hours"
    MEMORY = "memory", "GB-hours of memory"
    STORAGE_SSD = "storage_ssd", "TB-hours of SSD storage"
    STORAGE_HDD = "storage_hdd", "TB-hours of HDD storage"
    NETWORK = "network", "GB of inter-region network"


class CloudUsageRecord(IngestedRecord):
    """One billing-export line (or the portal's own usage row), estimated CCF-style."""

    service = models.CharField(max_length=120, help_text="e.g. AmazonEC2, Compute Engine")
    usage_kind = models.CharField(max_length=12, choices=UsageKind.choices)
    quantity = models.FloatField()
    hardware = models.ForeignKey(
        Hardware,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="CPU microarchitecture or GPU; the provider's unknown-CPU row otherwise",
        db_index=False,
        db_constraint=False,
    )
    utilization = models.FloatField(null=True, blank=True)
    replication = models.FloatField(null=True, blank=True)
    usage_start = models.DateTimeField()
    usage_end = models.DateTimeField()
    activity_date = models.DateField()
    # Lineage of the estimate: the coefficient row for memory, storage and network (compute
    # and GPU hours name their power row) and the replication factor applied.
    coefficient = models.ForeignKey(
        CloudCoefficient,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    replication_used = models.FloatField(null=True, blank=True)
    cost = models.FloatField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    # The billed instance type (e.g. m5.large) where the billing line names one: vCPU-hours
    # then carry the instance's embodied share (the coefficient row used beside it).
    instance_type = models.CharField(max_length=60, blank=True)
    instance_embodied = models.ForeignKey(
        CloudInstanceEmbodied,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_id"], name="cloud_usage_external_id_per_org"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organisation", "activity_date", "id"],
                include=["location", "usage_kind", "hardware"],
                name="cloud_usage_org_day_id",
            ),
            models.Index(
                fields=["organisation", "ai_model", "activity_date"],
                condition=models.Q(ai_model__isnull=False),
                name="cloud_usage_org_model_day",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class RecordKind(models.TextChoices):
    WORKLOAD = "workload", "Workload record"
    CLOUD_USAGE = "cloud_usage", "Cloud usage record"


class Rollup(models.Model):
    """The columns of a rollup row: its dimensions and the sums of its records' figures
    (inventory.figures), at the grain of `day`."""

    # Derived data, rebuilt by the pipeline: no database FK constraints (each would be checked
    # for every row a computation writes, at commit); the ORM still cascades deletes.
    # No index on the organisation alone: (organisation, day) leads with it, and a second one
    # drew the planner to read every day of the organisation to keep one year's (bench/pages.py).
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, db_constraint=False, db_index=False
    )
    day = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, db_constraint=False)
    ai_model = models.ForeignKey(AiModel, null=True, on_delete=models.CASCADE, db_constraint=False)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, db_constraint=False)
    record_kind = models.CharField(
        max_length=12, choices=RecordKind.choices, default=RecordKind.WORKLOAD
    )
    phase = models.CharField(max_length=16, choices=Phase.choices)
    energy_tier = models.CharField(max_length=10, choices=EnergyTier.choices)
    scope = models.CharField(max_length=12, choices=EmissionScope.choices)
    record_count = models.PositiveIntegerField()
    it_kwh = models.FloatField()
    facility_kwh = models.FloatField()
    location_kg = models.FloatField()
    market_kg = models.FloatField(null=True, blank=True)
    water_onsite_l = models.FloatField(null=True, blank=True)
    water_record_count = models.PositiveIntegerField(default=0, db_default=0)
    water_offsite_l = models.FloatField(null=True, blank=True)
    water_offsite_record_count = models.PositiveIntegerField(default=0, db_default=0)
    inferences = models.BigIntegerField(default=0)
    tokens = models.BigIntegerField(default=0)
    # Amortised embodied kg (inventory.figures.EMBODIED_EMISSIONS): NULL when no record of
    # the row has a published embodied figure.
    embodied_kg = models.FloatField(null=True, blank=True)
    # Money is summed per currency only: the currency is a dimension of the row
    # (inventory.figures.ENERGY_COST); NULL cost when no record of the row has one.
    energy_cost_currency = models.CharField(max_length=3, blank=True, default="")
    energy_cost = models.FloatField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} {self.team_id}/{self.ai_model_id}"


class DailyRollup(Rollup):
    """Sums of computed records per organisation × team × model × location × day."""

    class Meta:
        indexes = [models.Index(fields=["organisation", "day"], name="rollup_org_day")]


class MonthlyRollup(Rollup):
    """The daily rollups summed per month (`day` is the month's first day), so readers of
    whole months read ~30x fewer rows; kept by inventory.pipeline.rollups.monthly_rollups_refresh
    wherever daily rollups change.

    Besides the dimensions, a month keeps its days apart on the row conditions readers sum by
    (inventory.figures.ROLLUP_ROW_SPLITS), so every sum reads the same from either table.
    """

    class Meta:
        indexes = [models.Index(fields=["organisation", "day"], name="monthly_rollup_org_day")]


class MarketBasis(models.TextChoices):
    INSTRUMENT = "instrument", "Contractual instrument"
    RESIDUAL_MIX = "residual_mix", "Residual mix"
    GRID_AVERAGE = "grid_average", "Grid average (no residual mix published: disclosed)"


class MarketAllocation(models.Model):
    """Market-based method, per organisation × zone × month: which kWh each instrument covered
    and what was left at the residual mix (or, flagged, the grid average).

    Rebuilt as a whole for an (organisation, zone, month) by the pipeline; rollups take their
    market_kg pro rata from these rows, and reports explain each line with them.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    zone = models.CharField(max_length=40)
    month = models.DateField(help_text="first day of the month")
    basis = models.CharField(max_length=14, choices=MarketBasis.choices)
    instrument = models.ForeignKey(
        ContractualInstrument, null=True, blank=True, on_delete=models.PROTECT
    )
    grid_factor = models.ForeignKey(
        GridFactor, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    factor_override = models.ForeignKey(
        FactorOverride, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kwh = models.FloatField()
    kg_per_kwh = models.FloatField()
    kg = models.FloatField()
    methodology_version = models.CharField(max_length=20)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["organisation", "month"], name="market_org_month")]

    def __str__(self) -> str:
        return f"{self.zone} {self.month:%Y-%m} {self.basis}: {self.kwh} kWh"
