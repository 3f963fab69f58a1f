from django.conf import settings
from django.db import models

from accounts.models import Organisation


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


class ElectricityTariff(models.Model):
    """What a facility pays per kWh of electricity over a period, in one currency: energy
    cost = facility kWh × price. Dated, so a quarter keeps the tariff it was computed with."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="electricity_tariffs"
    )
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="tariffs")
    valid_from = models.DateField()
    valid_to = models.DateField()
    price_per_kwh = models.FloatField()
    currency = models.CharField(max_length=3, help_text="ISO 4217, e.g. EUR")
    source = models.CharField(max_length=300, help_text="contract, invoice or supplier")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["location", "valid_from"], name="tariff_location_from")]

    def __str__(self) -> str:
        return (
            f"{self.location_id} {self.valid_from}–{self.valid_to}: "
            f"{self.price_per_kwh} {self.currency}/kWh"
        )
