from django.db import models

from accounts.models import Organisation
from inventory.models.locations import Location


class PrometheusSource(models.Model):
    """An organisation's Prometheus, whose GPU energy counters become measured workload records.

    Series are attributed by the organisation's mapping rules of source `prometheus` (keys
    `label:<name>`, e.g. `label:namespace`); `hardware_by_gpu_model` names the library's
    hardware for a DCGM `modelName` label. `pulled_until` is the end of the last hour stored:
    the next pull starts there, so a pull after an outage fills the gap.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="prometheus_sources"
    )
    name = models.CharField(max_length=120)
    url = models.URLField(
        max_length=500, help_text="Base URL, e.g. https://prometheus.example:9090"
    )
    # Sent as `Authorization: Bearer …`; written, never shown back.
    bearer_token = models.CharField(max_length=500, blank=True)
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", help_text="Where the GPUs run"
    )
    hardware_by_gpu_model = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    pulled_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="prometheus_source_name_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.name
