"""Ingestion bookkeeping: file import jobs, team mapping rules, CodeCarbon runs."""

from django.conf import settings
from django.db import models

from accounts.models import Organisation, Team
from inventory.models.locations import Location
from inventory.models.records import AiModel, IngestBatch, Phase


class MappingSource(models.TextChoices):
    ANY = "any", "Any source"
    CODECARBON = "codecarbon", "CodeCarbon"
    AWS = "aws", "AWS Cost and Usage Report"
    GCP = "gcp", "GCP billing export"
    AZURE = "azure", "Azure usage details"
    PROMETHEUS = "prometheus", "Prometheus GPU energy meters"


class TeamMappingRule(models.Model):
    """Attributes records that name no team (billing lines, CodeCarbon runs) to a team.

    `key` names what is matched: `tag:<name>` (AWS resource tags, Azure tags), `label:<name>`
    (GCP labels), `account` (AWS account id), `project` (GCP project id), `subscription`,
    `resource_group` (Azure), `project_name` / `experiment_id` (CodeCarbon). `value` is matched
    exactly; `*` matches anything, so a `*` rule of low priority is the default team.
    The first matching rule by (priority, id) wins.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="mapping_rules"
    )
    source = models.CharField(max_length=12, choices=MappingSource.choices, default="any")
    key = models.CharField(max_length=80)
    value = models.CharField(max_length=200)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    model_name = models.CharField(max_length=160, blank=True)
    location_code = models.CharField(
        max_length=80, blank=True, help_text="CodeCarbon runs: where the machine runs"
    )
    phase = models.CharField(max_length=16, choices=Phase.choices, blank=True)
    priority = models.IntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["priority", "id"]
        indexes = [models.Index(fields=["organisation", "source"], name="mapping_rule_org")]

    def __str__(self) -> str:
        return f"{self.key}={self.value} → {self.team_id}"


class CodeCarbonRun(models.Model):
    """One CodeCarbon run as the portal knows it: where its records go, and (for the
    HTTP output, which posts running totals) the totals already turned into records."""

    class Mode(models.TextChoices):
        HTTP = "http", "HTTP output (emissions_endpoint)"
        API = "api", "API (save_to_api)"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    run_id = models.CharField(max_length=64)
    mode = models.CharField(max_length=4, choices=Mode.choices)
    experiment_id = models.CharField(max_length=64, blank=True)
    project_name = models.CharField(max_length=200, blank=True)
    token = models.ForeignKey("accounts.ApiToken", null=True, blank=True, on_delete=models.SET_NULL)
    batch = models.ForeignKey(IngestBatch, on_delete=models.PROTECT)
    team = models.ForeignKey(Team, on_delete=models.PROTECT)
    ai_model = models.ForeignKey(AiModel, null=True, blank=True, on_delete=models.PROTECT)
    location = models.ForeignKey(Location, on_delete=models.PROTECT)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.OTHER)
    metadata = models.JSONField(default=dict, blank=True)
    # Running totals received so far (HTTP output) and when the last record ended.
    duration_s = models.FloatField(default=0)
    energy_kwh = models.FloatField(default=0)
    emissions_kg = models.FloatField(default=0)
    last_ended_at = models.DateTimeField(null=True, blank=True)
    posts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "run_id"], name="codecarbon_run_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.run_id


class ImportFormat(models.TextChoices):
    PORTAL_WORKLOADS_CSV = "portal_workloads_csv", "Portal workloads CSV"
    PORTAL_CLOUD_USAGE_CSV = "portal_cloud_usage_csv", "Portal cloud usage CSV"
    CODECARBON_CSV = "codecarbon_csv", "CodeCarbon emissions.csv"
    AWS_CUR = "aws_cur", "AWS Cost and Usage Report (legacy or CUR 2.0)"
    GCP_BILLING = "gcp_billing", "GCP billing export (CSV)"
    AZURE_USAGE = "azure_usage", "Azure cost/usage details (CSV)"
    FOCUS = "focus", "FOCUS 1.0–1.2 billing export (AWS, Azure, GCP)"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    VALIDATING = "validating", "Checking every row"
    IMPORTING = "importing", "Storing records"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """An uploaded file, imported in the background in two streamed passes: check every row
    (nothing is stored if one is bad), then store in chunks."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    format = models.CharField(max_length=24, choices=ImportFormat.choices)
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    token = models.ForeignKey("accounts.ApiToken", null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # The team limit of the uploader's principal (None: every team), applied by the worker.
    team_ids = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    bytes_processed = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True)
    rows_processed = models.BigIntegerField(default=0)
    rows_created = models.BigIntegerField(default=0)
    rows_duplicates = models.BigIntegerField(default=0)
    rows_skipped = models.BigIntegerField(default=0)
    skipped_reasons = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.BigIntegerField(default=0)
    # CodeCarbon files are imported run by run: what became of each run (first 1000).
    runs = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organisation", "-created_at"], name="import_org_recent")]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.format}, {self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in (
            ImportStatus.QUEUED,
            ImportStatus.VALIDATING,
            ImportStatus.IMPORTING,
        )

    @property
    def progress(self) -> float:
        """0..1 for the progress bar: checking is the first half, storing the second; a
        finished import is done (1) whether it stored or failed."""
        if not self.is_running:
            return 1.0
        if self.status == ImportStatus.IMPORTING and self.rows_total:
            return 0.5 + 0.5 * min(1.0, self.rows_processed / self.rows_total)
        if self.status != ImportStatus.QUEUED and self.size_bytes:
            return 0.5 * min(1.0, self.bytes_processed / self.size_bytes)
        return 0.0
