"""Locked report versions (immutable once written) and PDF export jobs."""

from datetime import date

from django.conf import settings
from django.db import models

from accounts.models import Organisation
from greenai_portal import periods
from greenai_portal.errors import ApplicationError


class ReportImmutableError(ApplicationError):
    """A locked report version was asked to change: it never does."""

    status_code = 409

    def __init__(
        self,
        message: str = "A locked report version cannot be changed or deleted; "
        "make a restatement instead",
    ) -> None:
        super().__init__(message)


class ReportVersionQuerySet(models.QuerySet):
    # Bulk writes would bypass save()/delete(): refuse them too.
    def update(self, **kwargs):
        raise ReportImmutableError()

    def delete(self):
        raise ReportImmutableError()

    def bulk_update(self, objs, fields, batch_size=None):
        raise ReportImmutableError()


class ReportVersion(models.Model):
    """One locked version of an organisation's Scope 2 report for a quarter.

    Version 1 is the lock; each restatement adds the next version with its reason and its
    differences from the version before, which stays readable. Rows are written once: save()
    on an existing row, delete() and bulk update/delete all raise ReportImmutableError.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="report_versions"
    )
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    version = models.PositiveSmallIntegerField()
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="restated_by"
    )
    reason = models.TextField(blank=True, help_text="why this restatement was made")
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    locked_by_name = models.CharField(max_length=150)
    locked_by_role = models.CharField(max_length=20)
    locked_at = models.DateTimeField()
    methodology_versions = models.JSONField(default=list)
    factor_datasets = models.JSONField(default=list)
    record_count = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the quarter's inputs")
    report = models.JSONField(help_text="the report as it was locked: totals and every line")
    factors = models.JSONField(default=list, help_text="the factor rows the figures used")
    lineage = models.JSONField(default=dict, help_text="batches and record counts")
    differences = models.JSONField(default=dict, help_text="changes from the previous version")

    objects = ReportVersionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "quarter", "version"],
                name="report_version_per_quarter",
            ),
        ]
        ordering = ["organisation", "year", "quarter", "version"]

    def __str__(self) -> str:
        return f"{self.organisation} {self.year} Q{self.quarter} v{self.version}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ReportImmutableError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ReportImmutableError()


class ReportAnnex(models.Model):
    """What a locked version's audit PDF derives from its records, worked out once, by the
    task its lock queues (or its first export): the record annex (Annex B: the count and
    content hash of the records the version holds, the sample's ids for the limit and seed it
    was drawn with, and the listed records' lines) and the calculation trace of each line
    (Annex A); audit_selectors.version_record_reads. Its records never change (the pipeline
    leaves locked quarters alone); a restatement still drops the quarter's rows, the one
    moment a locked quarter is redone, and the next export works them out again."""

    version = models.OneToOneField(ReportVersion, on_delete=models.CASCADE, related_name="annex")
    record_count = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the annex lines")
    limit = models.PositiveIntegerField(help_text="GREENAI_AUDIT_ANNEX_RECORD_LIMIT then")
    seed = models.BigIntegerField()
    picked = models.JSONField(default=dict, help_text="the listed record ids, per record kind")
    rows = models.JSONField(default=list, help_text="the listed records' annex lines")
    trace = models.JSONField(default=list, help_text="the calculation trace of each line")
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"annex of {self.version}"


def locked_quarters(organisation_id: int) -> list[tuple[date, date]]:
    """[start, end) of every quarter the organisation has locked (the pipeline's
    inventory.pipeline.locks source)."""
    found = (
        ReportVersion.objects.filter(organisation_id=organisation_id)
        .values_list("year", "quarter")
        .distinct()
        .order_by("year", "quarter")
    )
    return [
        (quarter.start, quarter.end)
        for quarter in (periods.quarter(year, number) for year, number in found)
    ]


class ReportExport(models.Model):
    """A PDF export job: queued, built by a Celery task with progress, stored in the database
    (web and worker need no shared disk)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="report_exports"
    )
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    report_version = models.ForeignKey(
        ReportVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="percent")
    step = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.pk} {self.year} Q{self.quarter} ({self.status})"

    @property
    def filename(self) -> str:
        version = f"-v{self.report_version.version}" if self.report_version_id else "-draft"
        slug = self.organisation.slug
        return f"{slug}-scope2-{self.year}-Q{self.quarter}{version}.pdf"


class QuarterClose(models.Model):
    """Closing a quarter with two people: one prepares it with a note and the figures it
    would freeze (their input hash), another approves (the lock) or sends it back.

    At most one preparation of a quarter is pending at a time; decided ones stay as history.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved and locked"
        SENT_BACK = "sent_back", "Sent back"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="quarter_closes"
    )
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    note = models.TextField(help_text="the preparer's note to the approver")
    reason = models.TextField(blank=True, help_text="why a quarter still running is closed now")
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prepared_by_role = models.CharField(max_length=20)
    prepared_at = models.DateTimeField()
    record_count = models.PositiveIntegerField(help_text="records the preparation would freeze")
    content_hash = models.CharField(max_length=64, help_text="input hash at preparation")
    totals = models.JSONField(default=dict, help_text="the totals shown at preparation")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_role = models.CharField(max_length=20, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, help_text="the approver's comment")
    figures_changed = models.BooleanField(
        default=False, help_text="approved knowing the inputs changed since preparation"
    )
    version = models.OneToOneField(
        ReportVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="close"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "quarter"],
                condition=models.Q(status="pending"),
                name="one_pending_close_per_quarter",
            ),
        ]
        ordering = ["organisation", "year", "quarter", "prepared_at"]

    def __str__(self) -> str:
        return f"{self.organisation} {self.year} Q{self.quarter} close ({self.status})"


class Target(models.Model):
    """A reduction target from a base year, or a budget per quarter, for the organisation or
    one team, on one reported scope (scopes are never added) and one basis."""

    class Kind(models.TextChoices):
        REDUCTION = "reduction", "Reduction from a base year"
        BUDGET = "budget", "Budget per quarter"

    class Basis(models.TextChoices):
        LOCATION = "location", "t CO2e, location-based"
        MARKET = "market", "t CO2e, market-based"
        ENERGY = "energy", "MWh (facility energy)"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="targets")
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="targets"
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    scope = models.CharField(max_length=12, help_text="a reported scope: scope2 or scope3_cat1")
    basis = models.CharField(max_length=10, choices=Basis.choices)
    base_year = models.PositiveSmallIntegerField(null=True, blank=True)
    target_year = models.PositiveSmallIntegerField(null=True, blank=True)
    reduction_pct = models.FloatField(null=True, blank=True)
    budget = models.FloatField(null=True, blank=True, help_text="per quarter, in the basis' unit")
    # Alerts: a signed POST of the crossing to this URL (optional), signed with the secret.
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "team", "name"]

    def __str__(self) -> str:
        return self.name


class TargetAlert(models.Model):
    """A crossing: the forecast of a period passed its limit. Open until the forecast comes
    back under; one alert per crossing."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="alerts")
    period = models.CharField(max_length=10, help_text="2026-Q4 or 2026")
    forecast = models.FloatField()
    limit = models.FloatField()
    crossed_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    emailed_to = models.JSONField(default=list)
    webhook_status = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["target", "period"],
                condition=models.Q(cleared_at__isnull=True),
                name="one_open_alert_per_target_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.period}"
