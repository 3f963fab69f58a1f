from django.conf import settings
from django.db import models

from accounts.models import Organisation


class RecalculationTrigger(models.TextChoices):
    DATASET = "dataset", "New factor dataset version"
    OVERRIDE = "override", "Factor override changed"
    FACILITY_PUE = "facility_pue", "Facility PUE changed"
    FACILITY_WUE = "facility_wue", "Facility WUE changed"
    INSTRUMENT = "instrument", "Contractual instruments changed"
    TARIFF = "tariff", "Electricity tariff changed"
    MANUAL = "manual", "Requested by an admin"


class RecalculationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RecalculationJob(models.Model):
    """One recalculation of an organisation's open periods, with its progress.

    Starting one marks the affected records pending (tagged with the job) in open periods only;
    the pipeline computes them like any pending record, so a lost task is caught by the sweep.
    `processed_records` counts the job's records that are no longer pending.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="recalculations"
    )
    trigger = models.CharField(max_length=14, choices=RecalculationTrigger.choices)
    description = models.CharField(max_length=300)
    # What was asked: zone, location_id, date_from, date_to, dataset_id (whichever apply).
    scope = models.JSONField(default=dict, blank=True)
    # Periods left alone because a report locks them: [[start, end), ...] as ISO dates.
    locked_periods = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=8, choices=RecalculationStatus.choices, default=RecalculationStatus.QUEUED
    )
    total_records = models.PositiveBigIntegerField(default=0)
    processed_records = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status"], name="recalculation_status")]

    def __str__(self) -> str:
        return f"recalculation {self.pk} ({self.trigger}, {self.status})"

    @property
    def progress(self) -> float:
        if self.total_records == 0:
            return 1.0 if self.status == RecalculationStatus.DONE else 0.0
        return self.processed_records / self.total_records


class BatchComputation(models.Model):
    """An ingest batch the pipeline has computed: every record it held was taken from pending.

    The sweep's queue is the batches without one (their task was lost, or never queued while
    the broker was down); records have no index on their status, to keep computing them cheap.
    """

    batch = models.OneToOneField(
        "inventory.IngestBatch",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="computation",
    )
    records = models.PositiveIntegerField(default=0, help_text="records computed by that run")
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"batch {self.batch_id} computed"
