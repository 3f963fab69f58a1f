"""Report writes: lock a quarter, restate it, and request / build its audit PDF."""

import hashlib
import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Organisation
from accounts.principal import Access, Principal
from greenai_portal import periods
from greenai_portal.errors import ApplicationError
from greenai_portal.job_locks import JobKind, job_claim, orphaned_jobs_requeue
from inventory.pipeline import market_allocations_rebuild
from inventory.pipeline.compute import window_compute
from inventory.pipeline.sql import durable_commit, organisation_lock, window_lock
from reports.audit_selectors import (
    annex_limit,
    annex_seed,
    audit_pdf_document,
    version_record_reads,
)
from reports.lineage_selectors import (
    last_record_ids,
    pending_records,
    quarter_factor_rows,
    quarter_inputs,
    report_versions,
)
from reports.models import QuarterClose, ReportAnnex, ReportExport, ReportVersion
from reports.pdf import render_report_pdf
from reports.scope2_selectors import BREAKDOWNS, scope2_report

logger = logging.getLogger(__name__)

_EXPORT_FINISHED = (ReportExport.Status.DONE, ReportExport.Status.FAILED)

_COMPARED = ("record_count", "mwh", "location_t", "market_t")
# Rounds of computing a quarter's pending records up to a lock's cut-off (_quarter_cut_off):
# only records whose storing transaction was still open at the cut-off are left for the next.
CUT_OFF_ROUNDS = 5


def _require_whole_organisation(principal: Principal, access: str) -> None:
    if not principal.can(access):
        raise ApplicationError("Your role does not allow this action", status_code=403)
    if not principal.sees_whole_organisation:
        raise ApplicationError(
            "Locked reports cover the whole organisation; your access is limited to some teams",
            status_code=403,
        )


def _delta(old: dict, new: dict) -> dict:
    return {
        field: {"old": old.get(field, 0), "new": new.get(field, 0)}
        | {"change": (new.get(field) or 0) - (old.get(field) or 0)}
        for field in _COMPARED
    }


def _changed(delta: dict) -> bool:
    return any(abs(d["change"]) > 1e-12 for d in delta.values())


def report_differences(old: dict, new: dict) -> dict:
    """What a restatement changes: totals and every breakdown line that moved."""
    totals = {scope: _delta(old[scope], new[scope]) for scope in ("scope2", "scope3_cat1")}
    lines: dict[str, list[dict]] = {}
    for name in BREAKDOWNS:
        before = {line["key"]: line for line in old["breakdowns"][name]}
        after = {line["key"]: line for line in new["breakdowns"][name]}
        changed = []
        for key in sorted(before.keys() | after.keys()):
            delta = _delta(before.get(key, {}), after.get(key, {}))
            if _changed(delta):
                label = (after.get(key) or before[key])["label"]
                changed.append({"key": key, "label": label, **delta})
        lines[name] = changed
    return {"totals": totals, "lines": lines}


def _months(quarter: periods.Period) -> list[date]:
    first = quarter.start
    return [date(first.year, month, 1) for month in range(first.month, first.month + 3)]


def _quarter_cut_off(organisation_id: int, period: periods.Period) -> dict[str, int]:
    """Cut the quarter off at the records stored by now, and compute those here: a steady
    trickle of new records can never keep a lock waiting.

    The quarter's windows are taken first, for the rest of the transaction, in month order and
    before the organisation lock (the pipeline's order, so no wait can form a cycle): from then
    on no worker computes them, so every record computed so far is at or below the last record
    ids read next, the cut-off. The records up to it still pending are computed here; those
    above it stay pending (late records, found by records_after, for a restatement). A record
    whose id was drawn before the cut-off but stored after it is taken by another round.
    """
    months = _months(period)
    for month in months:
        window_lock(organisation_id, month, wait=True)
    cut_off = last_record_ids()
    for _ in range(CUT_OFF_ROUNDS):
        for month in months:
            window_compute(organisation_id, month, up_to=cut_off)
        pending = pending_records(
            organisation_id=organisation_id, start=period.start, end=period.end, up_to=cut_off
        )
        if not pending:
            durable_commit()  # the windows' compute commits lazily; a lock must not
            return cut_off
    raise ApplicationError(
        f"{pending} records of {period.label} stored before the lock are still being "
        "written; try again in a minute",
        status_code=409,
    )


def _snapshot(principal: Principal, year: int, quarter: int, cut_off: dict[str, int]) -> dict:
    """Everything a version stores, read live up to the `cut_off` record ids; refuses a
    quarter that is not ready."""
    period = periods.quarter(year, quarter)
    organisation_id = principal.organisation.id
    last_ids = cut_off  # a record with a higher id is a late one
    inputs = quarter_inputs(
        organisation_id=organisation_id, start=period.start, end=period.end, up_to=cut_off
    )
    if inputs.pending_count:
        raise ApplicationError(
            f"{inputs.pending_count} records of {period.label} are still waiting to be "
            "computed; lock once they are",
            status_code=409,
        )
    report = scope2_report(principal=principal, year=year, quarter=quarter)
    if report["scope2"]["record_count"] + report["scope3_cat1"]["record_count"] == 0:
        raise ApplicationError(f"{period.label} has no computed records to lock", status_code=409)
    if not report["scope2"]["market_complete"]:
        raise ApplicationError(
            f"{report['scope2']['unallocated_mwh']:.3f} MWh of {period.label} have no "
            "market-based figure yet; lock once the market-based allocation has run",
            status_code=409,
        )
    factors = quarter_factor_rows(organisation_id=organisation_id, inputs=inputs)
    return {
        "methodology_versions": inputs.methodology_versions,
        "factor_datasets": sorted({f["dataset"] for f in factors}),
        "record_count": inputs.record_count,
        "content_hash": inputs.content_hash,
        "report": report,
        "factors": factors,
        "lineage": {
            "record_count": inputs.record_count,
            "failed_count": inputs.failed_count,
            "batches": inputs.batches,
            "last_record_ids": last_ids,
        },
    }


def _create_version(principal: Principal, user, **fields) -> ReportVersion:
    try:
        with transaction.atomic():
            return ReportVersion.objects.create(
                organisation=principal.organisation,
                locked_by=user if user is not None and user.is_authenticated else None,
                locked_by_name=getattr(user, "username", "") or "api",
                locked_by_role=principal.role or "",
                locked_at=timezone.now(),
                **fields,
            )
    except IntegrityError as exc:
        # Two people locked (or restated) the same quarter at once: the other one won.
        raise ApplicationError(
            "This quarter was locked or restated at the same moment by someone else; reload",
            status_code=409,
        ) from exc


def _require_reason_for_early_lock(year: int, quarter: int, reason: str) -> None:
    """A quarter still running will receive more records: locking it now needs a reason."""
    period = periods.quarter(year, quarter)
    if reason or periods.has_ended(period, timezone.localdate()):
        return
    last_day = period.end - timedelta(days=1)
    raise ApplicationError(
        f"{period.label} has not ended (it runs to {last_day:%-d %b %Y}); "
        "give a reason to lock it early",
        errors=[{"field": "reason", "message": "Required to lock a quarter that has not ended."}],
    )


def _require_not_locked(principal: Principal, year: int, quarter: int) -> None:
    if report_versions(principal=principal, year=year, quarter=quarter):
        raise ApplicationError(
            f"{year} Q{quarter} is already locked; make a restatement with a reason to change it",
            status_code=409,
        )


def _take_turns(organisation: Organisation) -> None:
    """Locks and restatements of one organisation take turns. FOR NO KEY UPDATE: a row that
    references the organisation (a batch, a rollup) may still be written meanwhile; FOR
    UPDATE would stop ingestion and deadlock with a worker inside a window the lock waits for.
    """
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()


@transaction.atomic
def report_lock(
    *, principal: Principal, year: int, quarter: int, reason: str = "", user=None
) -> ReportVersion:
    """Lock a quarter: version 1, with totals, lines, factors, input count and hash.

    A quarter that has not ended yet is locked only with a reason, stored with the version.
    """
    _require_whole_organisation(principal, Access.LOCK)
    reason = (reason or "").strip()
    _require_reason_for_early_lock(year, quarter, reason)
    _take_turns(principal.organisation)
    _require_not_locked(principal, year, quarter)
    cut_off = _quarter_cut_off(principal.organisation.id, periods.quarter(year, quarter))
    # As a restatement does, the lock reads its counts and figures while no rollup rebuild or
    # market allocation of the organisation is half-way: those hold the organisation lock
    # (taken after the quarter's windows, the pipeline's order) until they commit.
    organisation_lock(principal.organisation.id)
    snapshot = _snapshot(principal, year, quarter, cut_off)
    version = _create_version(
        principal, user, year=year, quarter=quarter, version=1, reason=reason, **snapshot
    )
    _version_audited(version, "report.lock", user)
    _annex_kept_after_commit(version)
    logger.info("locked report", extra={"report_version_id": version.id})
    return version


def _annex_kept_after_commit(version: ReportVersion) -> None:
    """Once the version is committed, a worker works out what its PDF derives from its
    records (annex, calculation trace) and keeps it (report_annex_keep), so its exports read
    no record; an export that comes first works it out itself."""
    from reports.tasks import keep_report_annex

    transaction.on_commit(lambda: keep_report_annex.delay(version.id), robust=True)


def _version_audited(version: ReportVersion, action: str, user) -> None:
    audit_record(
        organisation=version.organisation,
        action=action,
        target=version,
        actor=user,
        details={
            "period": f"{version.year} Q{version.quarter}",
            "version": version.version,
            "content_hash": version.content_hash,
            "reason": version.reason,
        },
    )


# --- Closing a quarter with two people: prepare, then approve (the lock) or send back -------


def _require_person(user) -> None:
    # Two people answer for a close: each step is a named person, never a token or a script.
    if getattr(user, "pk", None) is None:
        raise ApplicationError("Closing a quarter is done by a signed-in person", status_code=403)


def _pending_closes(principal: Principal, year: int, quarter: int):
    return QuarterClose.objects.filter(
        organisation=principal.organisation,
        year=year,
        quarter=quarter,
        status=QuarterClose.Status.PENDING,
    )


def _pending_close(principal: Principal, year: int, quarter: int) -> QuarterClose:
    close = (
        _pending_closes(principal, year, quarter)
        .select_for_update()
        .select_related("prepared_by")
        .first()
    )
    if close is None:
        raise ApplicationError(
            f"{year} Q{quarter} has no close waiting for approval; prepare it first",
            status_code=409,
        )
    return close


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ApplicationError(
            message, errors=[{"field": field, "message": "This field may not be blank."}]
        )
    return value


def _close_audited(close: QuarterClose, action: str, user, **details) -> None:
    audit_record(
        organisation=close.organisation,
        action=action,
        target=close,
        actor=user,
        details={
            "period": f"{close.year} Q{close.quarter}",
            "prepared_by": close.prepared_by.get_username(),
            "prepared_at": close.prepared_at.isoformat(),
            "content_hash": close.content_hash,
            **details,
        },
    )


@transaction.atomic
def report_close_prepare(
    *, principal: Principal, year: int, quarter: int, note: str, reason: str = "", user=None
) -> QuarterClose:
    """Prepare a quarter's close: a note for the approver and the figures it would freeze
    (records stored by now, their input hash and totals). Nothing is locked yet."""
    _require_whole_organisation(principal, Access.LOCK)
    _require_person(user)
    note = _required_text(note, "note", "Preparing a close needs a note for the approver")
    reason = (reason or "").strip()
    _require_reason_for_early_lock(year, quarter, reason)
    _take_turns(principal.organisation)
    _require_not_locked(principal, year, quarter)
    if _pending_closes(principal, year, quarter).exists():
        raise ApplicationError(
            f"{year} Q{quarter} is already waiting for approval; approve it or send it back",
            status_code=409,
        )
    # The same checks as the lock (nothing pending, market-based figures complete), read up
    # to the records stored by now; the lock itself computes up to its own cut-off.
    preview = _snapshot(principal, year, quarter, last_record_ids())
    report = preview["report"]
    close = QuarterClose.objects.create(
        organisation=principal.organisation,
        year=year,
        quarter=quarter,
        note=note,
        reason=reason,
        prepared_by=user,
        prepared_by_role=principal.role or "",
        prepared_at=timezone.now(),
        record_count=preview["record_count"],
        content_hash=preview["content_hash"],
        totals={scope: report[scope] for scope in ("scope2", "scope3_cat1")},
    )
    _close_audited(
        close, "report.close.prepare", user, note=note, reason=reason, records=close.record_count
    )
    return close


def _require_second_person(close: QuarterClose, user, step: str) -> None:
    if close.prepared_by_id == user.pk:
        raise ApplicationError(
            f"You prepared {close.year} Q{close.quarter}; a second person (an admin or another "
            f"ESG officer) must {step}",
            status_code=403,
        )


@transaction.atomic
def report_close_approve(
    *,
    principal: Principal,
    year: int,
    quarter: int,
    comment: str = "",
    accept_changed_figures: bool = False,
    user=None,
) -> QuarterClose:
    """Approve a prepared close: a second person locks the quarter (report_lock).

    If the inputs changed since preparation (records arrived or were recomputed), the
    approval is refused unless the approver accepts the changed figures: they see the new
    figures on the page and answer for them, recorded in the close and the audit trail;
    sending it back for a new preparation remains open to them.
    """
    _require_whole_organisation(principal, Access.LOCK)
    _require_person(user)
    _take_turns(principal.organisation)
    close = _pending_close(principal, year, quarter)
    _require_second_person(close, user, "approve it")
    version = report_lock(
        principal=principal, year=year, quarter=quarter, reason=close.reason, user=user
    )
    changed = version.content_hash != close.content_hash
    if changed and not accept_changed_figures:
        # Raising undoes the lock above: this whole function is one transaction.
        raise ApplicationError(
            f"The figures of {year} Q{quarter} changed since "
            f"{close.prepared_by.get_username()} prepared the close ({close.record_count} "
            f"records then, {version.record_count} now); approve again accepting the changed "
            "figures, or send it back to be prepared again",
            status_code=409,
            errors=[{"field": "accept_changed_figures", "message": "The figures changed."}],
        )
    close.status = QuarterClose.Status.APPROVED
    close.decided_by = user
    close.decided_by_role = principal.role or ""
    close.decided_at = version.locked_at
    close.comment = (comment or "").strip()
    close.figures_changed = changed
    close.version = version
    close.save()
    _close_audited(
        close,
        "report.close.approve",
        user,
        comment=close.comment,
        version=version.version,
        locked_content_hash=version.content_hash,
        figures_changed=changed,
    )
    return close


@transaction.atomic
def report_close_send_back(
    *, principal: Principal, year: int, quarter: int, comment: str, user=None
) -> QuarterClose:
    """Send a prepared close back with comments: nothing is locked; it can be prepared again."""
    _require_whole_organisation(principal, Access.LOCK)
    _require_person(user)
    comment = _required_text(comment, "comment", "Sending a close back needs a comment")
    _take_turns(principal.organisation)
    close = _pending_close(principal, year, quarter)
    _require_second_person(close, user, "send it back")
    close.status = QuarterClose.Status.SENT_BACK
    close.decided_by = user
    close.decided_by_role = principal.role or ""
    close.decided_at = timezone.now()
    close.comment = comment
    close.save()
    _close_audited(close, "report.close.send_back", user, comment=comment)
    return close


def _market_recompute(organisation_id: int, year: int, quarter: int) -> None:
    """Recompute the quarter's market-based allocation from today's instruments and rollups.

    The pipeline leaves locked quarters alone; a restatement is the one moment it may redo
    one, so it says which.
    """
    restated = periods.quarter(year, quarter)
    organisation_lock(organisation_id)
    market_allocations_rebuild(
        organisation_id=organisation_id,
        months=_months(restated),
        restating=(restated.start, restated.end),
    )


@transaction.atomic
def report_restate(
    *, principal: Principal, year: int, quarter: int, reason: str, user=None
) -> ReportVersion:
    """A new version of a locked quarter from today's data, with the reason and differences.

    The versions before stay as they were and readable.
    """
    _require_whole_organisation(principal, Access.LOCK)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "A restatement needs a reason",
            errors=[{"field": "reason", "message": "This field may not be blank."}],
        )
    _take_turns(principal.organisation)
    versions = report_versions(principal=principal, year=year, quarter=quarter)
    if not versions:
        raise ApplicationError(f"{year} Q{quarter} is not locked; lock it first", status_code=409)
    latest = versions[-1]
    cut_off = _quarter_cut_off(principal.organisation.id, periods.quarter(year, quarter))
    _market_recompute(principal.organisation.id, year, quarter)
    snapshot = _snapshot(principal, year, quarter, cut_off)
    differences = report_differences(latest.report, snapshot["report"])
    if snapshot["content_hash"] == latest.content_hash and not any(
        _changed(d) for d in differences["totals"].values()
    ):
        raise ApplicationError(
            f"Nothing changed since version {latest.version}: same inputs, same figures",
            status_code=409,
        )
    differences["content_hash"] = {"old": latest.content_hash, "new": snapshot["content_hash"]}
    version = _create_version(
        principal,
        user,
        year=year,
        quarter=quarter,
        version=latest.version + 1,
        previous=latest,
        reason=reason,
        differences=differences,
        **snapshot,
    )
    # The one moment a locked quarter is redone: its versions' annexes are worked out again.
    ReportAnnex.objects.filter(
        version__organisation=principal.organisation, version__year=year, version__quarter=quarter
    ).delete()
    _annex_kept_after_commit(version)
    _version_audited(version, "report.restate", user)
    logger.info("restated report", extra={"report_version_id": version.id})
    return version


def _export_bounds_check(organisation: Organisation) -> None:
    """Refuse an export past the organisation's bounds (GREENAI_EXPORTS_IN_FLIGHT being built
    at once, GREENAI_EXPORTS_PER_HOUR requested in an hour), so no reader can bury the
    worker under PDFs; 429 with Retry-After."""
    exports = ReportExport.objects.filter(organisation=organisation)
    in_flight = exports.exclude(status__in=_EXPORT_FINISHED).count()
    if in_flight >= settings.GREENAI_EXPORTS_IN_FLIGHT:
        raise ApplicationError(
            f"{in_flight} exports of this organisation are still being built; "
            "request another once one has finished",
            status_code=429,
            headers={"Retry-After": "30"},
        )
    hour_ago = timezone.now() - timedelta(hours=1)
    recent = exports.filter(created_at__gt=hour_ago).order_by("created_at")
    limit = settings.GREENAI_EXPORTS_PER_HOUR
    if recent.count() >= limit:
        oldest = recent.values_list("created_at", flat=True)[0]
        wait = max(1, int((oldest - hour_ago).total_seconds()) + 1)
        raise ApplicationError(
            f"This organisation requested {limit} exports in the last hour, its limit; "
            f"retry in {wait} s",
            status_code=429,
            headers={"Retry-After": str(wait)},
        )


def report_export_request(
    *, principal: Principal, year: int, quarter: int, version: int | None = None, user=None
) -> ReportExport:
    """Queue the audit PDF of a quarter: a locked version (the latest unless one is named),
    or the live draft of an open quarter."""
    _require_whole_organisation(principal, Access.READ)
    periods.quarter(year, quarter)
    versions = report_versions(principal=principal, year=year, quarter=quarter)
    chosen = None
    if version is not None:
        chosen = next((v for v in versions if v.version == version), None)
        if chosen is None:
            raise ApplicationError(f"{year} Q{quarter} has no version {version}", status_code=404)
    elif versions:
        chosen = versions[-1]
    with transaction.atomic():
        # One request of an organisation at a time past this line: the bounds hold exactly.
        Organisation.objects.select_for_update().filter(pk=principal.organisation.pk).first()
        _export_bounds_check(principal.organisation)
        export = ReportExport.objects.create(
            organisation=principal.organisation,
            year=year,
            quarter=quarter,
            report_version=chosen,
            requested_by=user if user is not None and user.is_authenticated else None,
        )
    audit_record(
        organisation=principal.organisation,
        action="report.export",
        target=export,
        actor=user,
        details={"period": f"{year} Q{quarter}", "version": chosen.version if chosen else None},
    )
    from reports.tasks import build_report_export

    transaction.on_commit(lambda: build_report_export.delay(export.id), robust=True)
    return export


def _progress(export_id: int, percent: int, step: str) -> None:
    ReportExport.objects.filter(pk=export_id).update(progress=percent, step=step[:120])


def report_export_build(*, export_id: int) -> ReportExport:
    """Render an export's PDF, saving progress as it goes; a failure is stored, not lost.
    An export another worker holds, or one already finished, is left as it is."""
    with job_claim(JobKind.EXPORT, export_id) as claimed:
        export = ReportExport.objects.select_related("organisation", "report_version").get(
            pk=export_id
        )
        if not claimed or export.status in _EXPORT_FINISHED:
            return export
        return _export_build(export)


def _export_build(export: ReportExport) -> ReportExport:
    export_id = export.id
    ReportExport.objects.filter(pk=export_id).update(
        status=ReportExport.Status.RUNNING, progress=1, step="Reading the report", error=""
    )
    try:
        version = export.report_version
        kept = report_annex_keep(version=version) if version is not None else None
        document = audit_pdf_document(export=export, kept=kept)
        pdf = render_report_pdf(
            document, progress=lambda percent, step: _progress(export_id, percent, step)
        )
    except Exception as exc:
        logger.exception("report export failed", extra={"export_id": export_id})
        ReportExport.objects.filter(pk=export_id).update(
            status=ReportExport.Status.FAILED,
            error=str(exc)[:2000] or exc.__class__.__name__,
            finished_at=timezone.now(),
        )
        raise
    ReportExport.objects.filter(pk=export_id).update(
        status=ReportExport.Status.DONE,
        progress=100,
        step="Done",
        pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        pdf_bytes=len(pdf),
        finished_at=timezone.now(),
    )
    export.refresh_from_db()
    return export


def report_annex_keep(*, version: ReportVersion) -> dict:
    """What a locked version's audit PDF derives from its records
    (audit_selectors.version_record_reads: annex digest and lines, calculation trace): the
    one kept since an earlier export when drawn with today's limit and the version's seed,
    else worked out now and kept. A draft's is worked out at each export."""
    seed = annex_seed(version.content_hash)
    kept = ReportAnnex.objects.filter(version=version, limit=annex_limit(), seed=seed).first()
    if kept is not None:
        return {
            "count": kept.record_count,
            "content_hash": kept.content_hash,
            "limit": kept.limit,
            "seed": kept.seed,
            "picked": kept.picked,
            "rows": kept.rows,
            "trace": kept.trace,
        }
    reads = version_record_reads(version=version)
    try:
        with transaction.atomic():
            ReportAnnex.objects.update_or_create(
                version=version,
                defaults={
                    "record_count": reads["count"],
                    "content_hash": reads["content_hash"],
                    "limit": reads["limit"],
                    "seed": reads["seed"],
                    "picked": reads["picked"],
                    "rows": reads["rows"],
                    "trace": reads["trace"],
                    "computed_at": timezone.now(),
                },
            )
    except IntegrityError:
        pass  # another export of the version kept the same reads at the same moment
    return reads


def report_exports_resume(*, quiet_for: timedelta) -> int:
    """Queue again the exports left queued or running longer than quiet_for that no worker
    holds: their message was lost (broker down when it was queued) or their worker died."""
    from reports.tasks import build_report_export

    unfinished = ReportExport.objects.exclude(status__in=_EXPORT_FINISHED).filter(
        created_at__lt=timezone.now() - quiet_for
    )
    return orphaned_jobs_requeue(JobKind.EXPORT, unfinished, build_report_export)
