"""Water: the facility WUE settings an organisation enters and the providers' published WUE.

WUE is The Green Grid's: site water (litres) per kWh of IT energy. A result names the row it
used (inventory.models.records.ComputedResult.facility_wue / cloud_wue), or the record's own
measured water; with neither, its water is "not available" (NULL), never 0.
"""

from django.conf import settings
from django.db import models

from accounts.models import Organisation
from inventory.models.factors import FactorDataset, Provenance
from inventory.models.locations import Location


class WaterTier(models.TextChoices):
    MEASURED = "measured", "Measured water (the record's own)"
    FACILITY = "facility", "Facility WUE (the organisation's setting)"
    PROVIDER = "provider", "Provider default WUE (published per region)"


class FacilityWue(models.Model):
    """A facility's WUE over a period, with its source; the latest starting on or before a
    day (and not ended) applies to that day's records."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="facility_wue_rows"
    )
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="wue_rows")
    valid_from = models.DateField()
    valid_to = models.DateField(help_text="inclusive")
    wue_l_per_kwh = models.FloatField(help_text="site water (L) per IT kWh")
    source = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["location", "valid_from"], name="facility_wue_pick")]

    def __str__(self) -> str:
        return f"{self.location} {self.valid_from}–{self.valid_to}: WUE {self.wue_l_per_kwh}"


class CloudWue(Provenance):
    """A cloud provider's published WUE for a region (factor library, versioned)."""

    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT)
    provider = models.CharField(max_length=20)
    region = models.CharField(max_length=60)
    wue_l_per_kwh = models.FloatField()
    year = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "provider", "region"], name="cloud_wue_key"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.region} WUE {self.wue_l_per_kwh} ({self.year})"


class OffsiteWaterFactor(Provenance):
    """Water consumed by a country's electricity generation, litres per kWh (factor library,
    versioned; loaded from EcoLogits' electricity mixes, docs/factor-library.md)."""

    dataset = models.ForeignKey(FactorDataset, on_delete=models.PROTECT)
    country_iso = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    l_per_kwh = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "country_iso"], name="offsite_water_key"),
        ]

    def __str__(self) -> str:
        return f"{self.country_iso} off-site water {self.l_per_kwh} L/kWh"
