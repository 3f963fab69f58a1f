"""The audit trail: every administrative action, append-only, readable by admins."""

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
    user = actor if getattr(actor, "pk", None) else None
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


def audit_event_list(*, organisation: Organisation) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(organisation=organisation).select_related("actor")
