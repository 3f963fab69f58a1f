from django.db import models

from accounts.models import Organisation
from inventory.models.records import ComputeStatus, SentRecord


class CustomLlm(models.Model):
    """A hosted model EcoLogits' repository does not know, declared by the organisation with
    its parameter counts; its requests are estimated with EcoLogits' impact function."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="custom_llms"
    )
    provider = models.CharField(max_length=60, help_text="an EcoLogits provider, e.g. openai")
    name = models.CharField(max_length=160, help_text="the model name the API is called with")
    active_parameters_b = models.FloatField(help_text="active parameters, in billions")
    total_parameters_b = models.FloatField(help_text="total parameters, in billions")
    source_note = models.CharField(
        max_length=500, help_text="where the parameter counts come from (model card, paper)"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "provider", "name"], name="custom_llm_per_org"
            ),
        ]
        ordering = ["provider", "name"]

    def __str__(self) -> str:
        return f"{self.provider}/{self.name}"


class LlmUsageRecord(SentRecord):
    """Requests to a third-party LLM API (one request, or an hour's aggregate), with the
    EcoLogits estimate of their impacts as min–max ranges. Scope 3 category 1: a purchased
    service, never added to the organisation's own (Scope 2) energy. `ai_model`: the
    organisation's AI model (product) these requests serve, if named.
    """

    application = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=60)
    model = models.CharField(max_length=160)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField()
    requests = models.PositiveIntegerField(default=1)
    latency_s = models.FloatField(
        null=True, blank=True, help_text="seconds per request; EcoLogits models it when empty"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    activity_date = models.DateField(help_text="UTC date of started_at")
    # The estimate, written by the worker.
    status = models.CharField(
        max_length=10, choices=ComputeStatus.choices, default=ComputeStatus.PENDING
    )
    custom_llm = models.ForeignKey(
        CustomLlm,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    energy_kwh_min = models.FloatField(null=True, blank=True)
    energy_kwh_max = models.FloatField(null=True, blank=True)
    gwp_usage_kg_min = models.FloatField(null=True, blank=True)
    gwp_usage_kg_max = models.FloatField(null=True, blank=True)
    gwp_embodied_kg_min = models.FloatField(null=True, blank=True)
    gwp_embodied_kg_max = models.FloatField(null=True, blank=True)
    water_l_min = models.FloatField(null=True, blank=True)
    water_l_max = models.FloatField(null=True, blank=True)
    ecologits_version = models.CharField(max_length=20, blank=True)
    electricity_mix_zone = models.CharField(max_length=8, blank=True)
    estimate_error = models.CharField(max_length=300, blank=True)
    estimated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_id"], name="llm_usage_external_id_per_org"
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "activity_date"], name="llm_usage_org_day"),
        ]

    def __str__(self) -> str:
        return self.external_id
