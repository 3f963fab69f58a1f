"""OTLP trace exports in: decode once, keep the LLM calls, store them as LLM usage records."""

import logging
from dataclasses import dataclass

from accounts.principal import Principal
from greenai_portal.errors import ApplicationError
from inventory.ingestion.services import IngestResult
from inventory.llm.services import llm_usage_ingest
from inventory.models import IngestBatch
from inventory.otlp.decoding import (
    OtlpBodyError,
    OtlpBodyTooLarge,
    OtlpUnsupported,
    SpanUsage,
    read_request,
    usage_rows,
)

logger = logging.getLogger(__name__)


@dataclass
class OtlpExport:
    usage: SpanUsage
    created: int = 0
    duplicates: int = 0


def otlp_traces_ingest(
    *,
    principal: Principal,
    body: bytes,
    content_type: str,
    content_encoding: str | None,
    limit: int,
    user=None,
) -> OtlpExport:
    """Store the LLM calls of one ExportTraceServiceRequest. A span whose row the record
    schema refuses (an unknown team, a name too long, ...) is rejected with the reason and the
    others are stored: OTLP answers a partial success, and a sender must not retry it."""
    try:
        request = read_request(
            body, content_type=content_type, content_encoding=content_encoding, limit=limit
        )
    except OtlpUnsupported as error:
        raise ApplicationError(str(error), status_code=415) from None
    except OtlpBodyTooLarge as error:
        raise ApplicationError(str(error), status_code=413) from None
    except OtlpBodyError as error:
        raise ApplicationError(str(error)) from None
    token = principal.token
    usage = usage_rows(request, default_team=token.team.slug if token and token.team else None)
    export = OtlpExport(usage)
    if usage.rows:
        _store(export, principal=principal, user=user)
    logger.info(
        "otlp traces export",
        extra={
            "records_created": export.created,
            "records_duplicate": export.duplicates,
            "spans_rejected": usage.rejected_count,
            "spans_ignored": usage.ignored,
        },
    )
    return export


# A first pass names every row the schema refuses, a second the rows stored before with other
# content (checked only once the rest is valid); a third covers a concurrent writer.
MAX_PASSES = 3


def _store(export: OtlpExport, *, principal: Principal, user) -> None:
    """Ingest the rows; while the service names bad rows (400) or conflicting ones (409),
    reject those and store the rest."""
    usage = export.usage
    for attempt in range(MAX_PASSES):
        try:
            result = _ingest(usage.rows, principal=principal, user=user)
        except ApplicationError as error:
            bad = {problem["row"]: problem for problem in error.errors if "row" in problem}
            if not bad or attempt == MAX_PASSES - 1:
                raise
            for problem in bad.values():
                usage.rejected[f"{problem.get('field', 'span')}: {problem['message']}"] += 1
            usage.rows = [row for index, row in enumerate(usage.rows) if index not in bad]
            if not usage.rows:
                return
            continue
        export.created, export.duplicates = result.created, result.duplicates
        return


def _ingest(rows: list[dict], *, principal: Principal, user) -> IngestResult:
    # Rows are JSON values; a NUL (which only the row-by-row check words) is in a name or not.
    has_nul = any("\x00" in value for row in rows for value in row.values() if type(value) is str)
    return llm_usage_ingest(
        principal=principal,
        rows=rows,
        source=IngestBatch.Source.OTLP,
        user=user,
        one_pass=None if has_nul else "json",
    )
