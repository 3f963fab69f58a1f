from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def validate_time_zone(value: str) -> None:
    """An IANA time zone name this machine knows (every form and the service check it)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"Unknown time zone {value!r}: give an IANA name such as Europe/Paris"
        ) from None


class Organisation(models.Model):
    class Consolidation(models.TextChoices):
        """GHG Protocol Corporate Standard, chapter 3: how an organisation's operations are
        brought into its inventory."""

        EQUITY_SHARE = "equity_share", "Equity share"
        FINANCIAL_CONTROL = "financial_control", "Financial control"
        OPERATIONAL_CONTROL = "operational_control", "Operational control"

    class FactorBasis(models.TextChoices):
        DIRECT = "direct", "Direct (combustion), as GHG Protocol Scope 2 asks"
        LIFECYCLE = "lifecycle", "Lifecycle"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    factor_basis = models.CharField(
        max_length=12, choices=FactorBasis.choices, default=FactorBasis.DIRECT
    )
    # IANA name. CodeCarbon writes local time without an offset (emissions.csv, its HTTP
    # output): such times are read in this zone.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # Fiscal years (greenai_portal.fiscal_years): the month each one starts in, and the one the
    # organisation compares against (a base year, named by the calendar year it starts in).
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    base_fiscal_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # What the inventory covers, as the audit PDF's cover states it; empty: "not stated".
    reporting_boundary = models.TextField(
        blank=True, max_length=2000, help_text="the entities and facilities the inventory covers"
    )
    consolidation_approach = models.CharField(
        max_length=20, choices=Consolidation.choices, blank=True
    )
    reporting_exclusions = models.TextField(
        blank=True, max_length=4000, help_text="what is left out and why, one exclusion a line"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="team_slug_per_org"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    ESG_OFFICER = "esg_officer", "ESG officer"
    ENGINEER = "engineer", "Engineer"
    AUDITOR = "auditor", "Auditor (read-only)"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    # Only engineers are ever limited. The flag, not the team list, says whether a limit holds:
    # a limited member whose teams were all deleted sees no team, not every team.
    team_limited = models.BooleanField(default=False)
    teams = models.ManyToManyField(Team, blank=True, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.role}"


class Scope(models.TextChoices):
    INGEST = "ingest", "Ingest records"
    READ = "read", "Read footprint and reports"
    # Admin-equivalent writes (teams, members, mapping rules, facilities, instruments,
    # overrides): only an admin may create it, and never for a single team.
    MANAGE = "manage", "Manage settings (admins only)"


class ApiToken(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_tokens"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=120)
    # The public part of the key, used to find the row; the secret is only ever hashed.
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(models.Model):
    """An append-only record of an administrative action. Never updated, never deleted."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    actor_label = models.CharField(max_length=160, help_text="user name or token name at the time")
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=60, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ImmutableRecordError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("Audit events are append-only")


class ImmutableRecordError(Exception):
    """A write to a record that must never change."""
