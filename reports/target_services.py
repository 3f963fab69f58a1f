"""Targets and budgets: setting them (audited), and alerting once per crossing."""

import hashlib
import hmac
import json
import logging
import secrets
import urllib.request
from dataclasses import asdict
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Organisation, Role, Team
from greenai_portal.errors import ApplicationError
from reports.footprint_selectors import REPORTED_SCOPES
from reports.models import Target, TargetAlert
from reports.targets import FORECAST_OVER, OVER, TargetProgress, target_progress

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-GreenAI-Signature"


def _check(*, kind, scope, basis, base_year, target_year, reduction_pct, budget) -> None:
    scopes = {s.key: s for s in REPORTED_SCOPES}
    if scope not in scopes:
        raise ApplicationError(f"Unknown scope {scope!r}: one of {', '.join(scopes)}")
    if basis == Target.Basis.MARKET and not scopes[scope].market_based:
        raise ApplicationError(f"{scopes[scope].label} has no market-based figure")
    if kind == Target.Kind.BUDGET:
        if not budget or budget <= 0:
            raise ApplicationError("A budget needs an amount per quarter above 0")
    elif kind == Target.Kind.REDUCTION:
        if not (base_year and target_year and target_year > base_year):
            raise ApplicationError("A reduction needs a base year and a later target year")
        if reduction_pct is None or not 0 < reduction_pct <= 100:
            raise ApplicationError("The reduction is a percentage above 0 and at most 100")
    else:
        raise ApplicationError(f"Unknown kind {kind!r}")


@transaction.atomic
def target_create(
    *,
    organisation: Organisation,
    name: str,
    kind: str,
    scope: str,
    basis: str,
    team: Team | None = None,
    base_year: int | None = None,
    target_year: int | None = None,
    reduction_pct: float | None = None,
    budget: float | None = None,
    webhook_url: str = "",
    actor=None,
) -> Target:
    _check(
        kind=kind, scope=scope, basis=basis, base_year=base_year, target_year=target_year,
        reduction_pct=reduction_pct, budget=budget,
    )  # fmt: skip
    if team is not None and team.organisation_id != organisation.id:
        raise ApplicationError("No such team", status_code=404)
    target = Target.objects.create(
        organisation=organisation, team=team, name=name, kind=kind, scope=scope, basis=basis,
        base_year=base_year, target_year=target_year, reduction_pct=reduction_pct,
        budget=budget, webhook_url=webhook_url, webhook_secret=secrets.token_hex(32),
        created_by=actor if getattr(actor, "pk", None) else None,
    )  # fmt: skip
    audit_record(
        organisation=organisation,
        action="target.create",
        target=target,
        actor=actor,
        details={
            "name": name, "kind": kind, "scope": scope, "basis": basis,
            "team": team.slug if team else None, "base_year": base_year,
            "target_year": target_year, "reduction_pct": reduction_pct, "budget": budget,
            "webhook_url": webhook_url,
        },
    )  # fmt: skip
    return target


@transaction.atomic
def target_delete(*, target: Target, actor=None) -> None:
    audit_record(
        organisation=target.organisation,
        action="target.delete",
        target=target,
        actor=actor,
        details={"name": target.name},
    )
    target.delete()


def signature(secret: str, body: bytes) -> str:
    """The webhook's signature header value: HMAC-SHA256 of the raw body with the target's
    secret, as GitHub and Stripe sign theirs."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def alert_body(alert: TargetAlert, progress: TargetProgress) -> bytes:
    return json.dumps(
        {
            "event": "target.forecast_over",
            "alert_id": alert.id,
            "organisation": alert.target.organisation.slug,
            "progress": asdict(progress),
        },
        default=str,
        sort_keys=True,
    ).encode()


def alert_webhook_deliver(*, alert_id: int, body: bytes) -> str:
    """POST the signed body to the target's webhook; the status is kept on the alert."""
    alert = TargetAlert.objects.select_related("target").get(pk=alert_id)
    request = urllib.request.Request(  # noqa: S310 - an https/http URL an admin entered
        alert.target.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(alert.target.webhook_secret, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.GREENAI_WEBHOOK_TIMEOUT) as answer:  # noqa: S310
            status = f"delivered ({answer.status})"
    except OSError as exc:
        status = f"failed: {exc}"[:40]
        logger.warning("alert webhook failed", extra={"alert_id": alert_id, "error": str(exc)})
    TargetAlert.objects.filter(pk=alert_id).update(webhook_status=status)
    return status


def _recipients(organisation: Organisation) -> list[str]:
    people = organisation.memberships.filter(role__in=[Role.ADMIN, Role.ESG_OFFICER])
    return sorted({m.user.email for m in people.select_related("user") if m.user.email})


def _send(alert: TargetAlert, progress: TargetProgress) -> None:
    target = alert.target
    recipients = _recipients(target.organisation)
    if recipients:
        send_mail(
            subject=f"[GreenAI] {target.name}: forecast over its limit for {progress.period}",
            message=(
                f"{target.name} ({target.get_kind_display()}, {progress.scope}, "
                f"{progress.unit}) for {progress.period}: {progress.used:.3f} used in "
                f"{progress.elapsed_days} of {progress.period_days} days; at this rate the "
                f"period ends at {progress.forecast:.3f}, over its limit of {progress.limit:.3f}."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    alert.emailed_to = recipients
    alert.save(update_fields=["emailed_to"])
    if target.webhook_url:
        from reports.tasks import deliver_alert_webhook

        body = alert_body(alert, progress)
        transaction.on_commit(
            lambda: deliver_alert_webhook.delay(alert.id, body.decode()), robust=True
        )


@transaction.atomic
def targets_check(*, today: date | None = None) -> int:
    """Alert once per crossing: a target whose forecast passed its limit gets one alert (an
    e-mail to the organisation's admins and ESG officers, and its webhook) until the forecast
    comes back under; returns the alerts sent."""
    today = today or timezone.now().date()
    sent = 0
    for target in Target.objects.select_related("organisation", "team"):
        progress = target_progress(target, today)
        crossed = progress.status in (FORECAST_OVER, OVER)
        open_alert = TargetAlert.objects.filter(
            target=target, period=progress.period, cleared_at__isnull=True
        ).first()
        if crossed and open_alert is None:
            alert = TargetAlert.objects.create(
                target=target, period=progress.period,
                forecast=progress.forecast, limit=progress.limit,
            )  # fmt: skip
            _send(alert, progress)
            sent += 1
        elif not crossed and open_alert is not None:
            open_alert.cleared_at = timezone.now()
            open_alert.save(update_fields=["cleared_at"])
    return sent
