"""The audit trail: every administrative action, append-only, readable by admins."""

from datetime import date
from typing import Any

from django.db.models import QuerySet

from accounts.models import AuditEvent, Organisation


def audit_record(
    *,
    organisation: Organisation,
    action: str,
    target: Any,
    actor=None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event; `actor` is a user, a token-authenticated user or None (a script)."""
    token = getattr(actor, "token", None)
    user = actor_user(actor)
    if token is not None:
        label = f"token {token.name} ({token.prefix})"
    elif user is not None:
        label = user.get_username()
    else:
        label = "system"
    return AuditEvent.objects.create(
        organisation=organisation,
        actor=user,
        actor_label=label,
        action=action,
        target_type=type(target).__name__,
        target_id=str(getattr(target, "pk", "") or ""),
        details=details or {},
    )


def audited_update(target: Any, *, action: str, actor=None, **changes: Any) -> dict[str, Any]:
    """Set `changes` on `target` (a row with an organisation, or the organisation itself),
    save those fields, and record the event with the values before and after; returns the
    values before."""
    before = {name: getattr(target, name) for name in changes}
    for name, value in changes.items():
        setattr(target, name, value)
    target.save(update_fields=list(changes))
    audit_record(
        organisation=target if isinstance(target, Organisation) else target.organisation,
        action=action,
        target=target,
        actor=actor,
        details={"before": before, "after": changes},
    )
    return before


def actor_user(actor):
    """The person behind `actor`, for a `created_by` column: None for a token or a script."""
    return actor if getattr(actor, "pk", None) else None


def audit_event_list(
    *,
    organisation: Organisation,
    action: str = "",
    actor: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """The organisation's trail, newest first; `action` matches a prefix ("token" or
    "token.revoke"), `actor` the user or token label, dates are inclusive (UTC)."""
    events = AuditEvent.objects.filter(organisation=organisation)
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if date_from:
        events = events.filter(created_at__date__gte=date_from)
    if date_to:
        events = events.filter(created_at__date__lte=date_to)
    return events.order_by("-created_at", "-id")


def audit_actions(*, organisation: Organisation) -> list[str]:
    return list(
        AuditEvent.objects.filter(organisation=organisation)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
