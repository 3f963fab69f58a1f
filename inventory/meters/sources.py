"""Configuring an organisation's Prometheus sources: audited writes, the token never echoed."""

from typing import Any

from accounts.audit import audit_record
from accounts.models import Organisation
from greenai_portal.errors import ApplicationError
from inventory.managed_rows import saved_under_unique_name
from inventory.models import Hardware, Location, PrometheusSource

# What the audit trail shows of a source (never its bearer token).
_AUDITED = ("name", "url", "enabled", "hardware_by_gpu_model")


def _facility(organisation: Organisation, code: str) -> Location:
    """The organisation's own facility: GPUs it meters run on electricity it buys (Scope 2)."""
    location = Location.objects.filter(organisation=organisation, code=code).first()
    if location is None:
        raise ApplicationError(
            f"Unknown facility {code!r}",
            errors=[{"field": "location", "message": "Give one of your facilities' codes"}],
        )
    return location


def _hardware_check(hardware_by_gpu_model: dict[str, str]) -> None:
    known = set(
        Hardware.objects.filter(
            code__in=hardware_by_gpu_model.values(), dataset__is_active=True
        ).values_list("code", flat=True)
    )
    unknown = sorted(set(hardware_by_gpu_model.values()) - known)
    if unknown:
        raise ApplicationError(
            f"Unknown hardware {', '.join(unknown)}",
            errors=[
                {"field": "hardware_by_gpu_model", "message": f"Unknown hardware {code!r}"}
                for code in unknown
            ],
        )


def _saved(source: PrometheusSource, action: str, actor) -> PrometheusSource:
    return saved_under_unique_name(
        source,
        action=action,
        actor=actor,
        audited=_AUDITED,
        name_taken=f"A source named {source.name!r} exists already",
        name_taken_hint="Already used",
    )


def prometheus_source_create(
    *, organisation: Organisation, actor=None, location: str, **fields: Any
) -> PrometheusSource:
    """`fields`: name, url, and optionally bearer_token, hardware_by_gpu_model, enabled.
    The first pull covers the last day; series are attributed by the `prometheus` rules."""
    _hardware_check(fields.get("hardware_by_gpu_model") or {})
    source = PrometheusSource(
        organisation=organisation, location=_facility(organisation, location), **fields
    )
    return _saved(source, "prometheus_source.create", actor)


def prometheus_source_update(
    *, source: PrometheusSource, actor=None, location: str | None = None, **fields: Any
) -> PrometheusSource:
    """Change the fields given; a bearer token left out is kept, an empty one removed."""
    if "hardware_by_gpu_model" in fields:
        _hardware_check(fields["hardware_by_gpu_model"])
    if location is not None:
        source.location = _facility(source.organisation, location)
    for name, value in fields.items():
        setattr(source, name, value)
    return _saved(source, "prometheus_source.update", actor)


def prometheus_source_delete(*, source: PrometheusSource, actor=None) -> None:
    """The source goes; the records it stored stay (they are the organisation's history)."""
    audit_record(
        organisation=source.organisation,
        action="prometheus_source.delete",
        target=source,
        actor=actor,
        details={"name": source.name},
    )
    source.delete()
