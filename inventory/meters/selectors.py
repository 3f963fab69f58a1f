"""Reads of the Prometheus sources an organisation configured."""

from django.db.models import QuerySet

from accounts.principal import Principal
from inventory.models import PrometheusSource


def prometheus_sources_due() -> list[int]:
    """Every enabled source, of every organisation: the beat pulls each one."""
    return list(PrometheusSource.objects.filter(enabled=True).values_list("id", flat=True))


def prometheus_source_list(*, principal: Principal) -> QuerySet[PrometheusSource]:
    return PrometheusSource.objects.filter(organisation=principal.organisation).select_related(
        "location"
    )
