"""LLM usage in: validated records stored once per external_id, estimated by the worker; and
the organisation's declarations of models EcoLogits does not know."""

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from django.db import transaction

from accounts.audit import audit_record
from accounts.models import Organisation
from accounts.principal import Principal
from accounts.selectors import team_list
from greenai_portal.errors import ApplicationError
from inventory.calculation.llm import ECOLOGITS_PROVIDERS, ECOLOGITS_VERSION, ecologits_knows
from inventory.ingestion.schemas import batch_context
from inventory.ingestion.services import (
    COMMON_COLUMNS,
    BatchIds,
    IngestResult,
    RecordKindSpec,
    choices_hint,
    common_values,
    record_batch_ingest,
)
from inventory.ingestion.writers import RecordTable
from inventory.llm.schemas import LLM_USAGE
from inventory.managed_rows import saved_under_unique_name
from inventory.models import ComputeStatus, CustomLlm, IngestBatch, LlmUsageRecord

# Stored as sent, in this order after the common columns and the application.
_USAGE_COLUMNS = ("provider", "model", "input_tokens", "output_tokens", "requests", "latency_s")
DECLARE_HINT = (
    "declare it with POST /api/v1/llm-models/ "
    '{"provider", "name", "active_parameters_b", "total_parameters_b", "source_note"} '
    "(parameters in billions; active = total for a dense model)"
)


def unknown_llm_message(provider: str, model: str) -> str:
    return (
        f"EcoLogits {ECOLOGITS_VERSION} does not know model {model!r} of provider "
        f"{provider!r}, and your organisation declared no such model: {DECLARE_HINT}"
    )


class LlmReferences:
    """Resolves a batch's teams and models (EcoLogits' or declared) in a few queries."""

    def __init__(self, principal: Principal, records: Sequence[dict[str, Any]]) -> None:
        self.teams = dict(team_list(principal=principal).values_list("slug", "id"))
        pairs = {(r.get("provider"), r.get("model")) for r in records}
        self.known = {pair for pair in pairs if None not in pair and ecologits_knows(*pair)}
        unknown = pairs - self.known
        declared = CustomLlm.objects.filter(
            organisation=principal.organisation,
            provider__in={provider for provider, _ in unknown},
            name__in={model for _, model in unknown},
        )
        self.known.update(declared.values_list("provider", "name"))

    def problems(self, record: dict[str, Any]) -> list[tuple[str, str]]:
        found = []
        team = record.get("team")
        if team is not None and team not in self.teams:
            found.append(("team", choices_hint("team", team, list(self.teams))))
        provider, model = record.get("provider"), record.get("model")
        if provider is not None and model is not None and (provider, model) not in self.known:
            found.append(("model", unknown_llm_message(provider, model)))
        return found


def _llm_usage_row(record, digest, batch: BatchIds, refs: LlmReferences, models) -> tuple:
    started_at = record["started_at"]
    return (
        *common_values(record, digest, batch, refs.teams, models, record.get("ai_model")),
        record.get("application") or "",
        record["provider"],
        record["model"],
        record.get("input_tokens") or 0,
        record["output_tokens"],
        record.get("requests") or 1,
        record.get("latency_s"),
        started_at,
        record["ended_at"],
        started_at.astimezone(UTC).date(),
    )


LLM_USAGES = RecordKindSpec(
    schema=LLM_USAGE,
    table=RecordTable(
        LlmUsageRecord,
        (
            *COMMON_COLUMNS,
            "application",
            *_USAGE_COLUMNS,
            "started_at",
            "ended_at",
            "activity_date",
        ),
    ),
    build_row=_llm_usage_row,
    references=LlmReferences,
    ai_model_field="ai_model",
)


def llm_usage_batch_ingest(
    *,
    principal: Principal,
    records: Sequence[dict[str, Any]],
    source: str = IngestBatch.Source.API,
    user=None,
    use_copy: bool | None = None,
) -> IngestResult:
    """Store validated LLM usage records (out of LLM_USAGE); all or nothing, idempotent by
    external_id (same content: a duplicate; other content: 409). The worker estimates them."""
    return record_batch_ingest(
        kind=LLM_USAGES,
        principal=principal,
        records=records,
        source=source,
        user=user,
        use_copy=use_copy,
    )


def llm_usage_ingest(
    *,
    principal: Principal,
    rows: Sequence[dict[str, Any]],
    source: str = IngestBatch.Source.API,
    user=None,
    one_pass: str | None = None,
) -> IngestResult:
    """Check and store rows as sent (JSON values: timestamps as ISO 8601 strings); every
    problem of every row raised at once (ApplicationError, 400), conflicts as a 409.
    `one_pass` "json": rows of JSON values holding no NUL, checked in one msgspec pass when
    clean (RecordSchema.validate)."""
    records, errors = LLM_USAGE.validate(
        list(rows),
        batch_context(),
        one_pass=one_pass,
        references=lambda checked: LlmReferences(principal, checked),
    )
    if errors:
        raise errors.error("Validation failed")
    return llm_usage_batch_ingest(principal=principal, records=records, source=source, user=user)


# --- Declared models ----------------------------------------------------------------------

_DECLARED = ("provider", "name", "active_parameters_b", "total_parameters_b", "source_note")


def _declaration_check(provider: str, active: float, total: float) -> None:
    errors = []
    if provider not in ECOLOGITS_PROVIDERS:
        errors.append(
            {
                "field": "provider",
                "message": "EcoLogits describes the data centres of "
                + ", ".join(ECOLOGITS_PROVIDERS)
                + " only (their PUE, WUE and electricity mix)",
            }
        )
    if active > total:
        errors.append(
            {"field": "active_parameters_b", "message": "Cannot exceed total_parameters_b"}
        )
    if errors:
        raise ApplicationError("Invalid model declaration", errors=errors)


def _reestimate(declaration: CustomLlm) -> None:
    """Its records (the ones already stored too) are estimated again with the new figures."""
    from inventory.tasks import estimate_llm_usage

    LlmUsageRecord.objects.filter(
        organisation=declaration.organisation,
        provider=declaration.provider,
        model=declaration.name,
    ).update(status=ComputeStatus.PENDING)
    organisation_id = declaration.organisation_id
    transaction.on_commit(lambda: estimate_llm_usage.delay(organisation_id), robust=True)


def _saved(declaration: CustomLlm, action: str, actor) -> CustomLlm:
    return saved_under_unique_name(
        declaration,
        action=action,
        actor=actor,
        audited=_DECLARED,
        name_taken=f"Model {declaration.provider}/{declaration.name} is declared already",
        name_taken_hint="Already declared for this provider",
        after_save=lambda: _reestimate(declaration),
    )


def custom_llm_create(
    *,
    organisation: Organisation,
    actor=None,
    provider: str,
    name: str,
    active_parameters_b: float,
    total_parameters_b: float,
    source_note: str,
) -> CustomLlm:
    """Declare a model EcoLogits does not know; records already refused can be sent again,
    and stored ones naming it (none, unless it was deleted) are estimated again."""
    if ecologits_knows(provider, name):
        raise ApplicationError(
            f"EcoLogits {ECOLOGITS_VERSION} knows {provider}/{name} already: its figures are used",
            errors=[{"field": "name", "message": "Known to EcoLogits"}],
        )
    _declaration_check(provider, active_parameters_b, total_parameters_b)
    declaration = CustomLlm(
        organisation=organisation,
        provider=provider,
        name=name,
        active_parameters_b=active_parameters_b,
        total_parameters_b=total_parameters_b,
        source_note=source_note,
    )
    return _saved(declaration, "custom_llm.create", actor)


def custom_llm_update(*, declaration: CustomLlm, actor=None, **fields: Any) -> CustomLlm:
    """Change the parameter counts or source note; the model's records are estimated again."""
    for name, value in fields.items():
        setattr(declaration, name, value)
    _declaration_check(
        declaration.provider, declaration.active_parameters_b, declaration.total_parameters_b
    )
    return _saved(declaration, "custom_llm.update", actor)


def custom_llm_delete(*, declaration: CustomLlm, actor=None) -> None:
    """Records naming the model keep their estimate until recomputed; new ones are refused."""
    audit_record(
        organisation=declaration.organisation,
        action="custom_llm.delete",
        target=declaration,
        actor=actor,
        details={name: getattr(declaration, name) for name in _DECLARED},
    )
    declaration.delete()
