"""CodeCarbon compatibility: what its HTTP output and its API client send, as workload records.

- HTTP output (`emissions_endpoint`): one EmissionsData per stop/flush holding the run's
  *running totals*. Each post becomes a record of what is new since the run's previous post
  (its external_id is `<run_id>:<total duration, ms>`), so flushes never count energy twice.
- API client (`save_to_api`): `POST /runs` registers a run, then every `POST /emissions` is a
  *delta*: one record each (external_id `<run_id>:<timestamp>`).

`energy_consumed` already includes CodeCarbon's PUE (energy_includes_pue=True). CodeCarbon's
own kg CO2e stays beside the record in its tags; the portal recomputes emissions from energy
and location with its own factors. Team, model, phase and location come from the first
matching TeamMappingRule (source codecarbon; keys project_name, experiment_id), then the
token's team, then the organisation's only team; the location from the rule, else the cloud
region, else the country (`country:XX`, see inventory.ingestion.mapping).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import Team
from accounts.principal import Principal
from greenai_portal.errors import ApplicationError
from inventory.ingestion.fields import Field, RecordSchema, number, text, timestamp
from inventory.ingestion.mapping import (
    country_alpha2,
    country_location,
    location_by_code,
    mapping_rules,
    match_rule,
)
from inventory.ingestion.schemas import MAX_DURATION_S, MAX_RECORD_KWH, batch_context
from inventory.ingestion.writers import write_rows
from inventory.models import (
    AiModel,
    BatchComputation,
    CodeCarbonRun,
    IngestBatch,
    Location,
    MappingSource,
    Phase,
    WorkloadRecord,
)
from inventory.services import WORKLOADS, BatchIds, _queue_compute, content_hash

# CodeCarbon's default project name: it names no model.
DEFAULT_PROJECT = "codecarbon"
# Running totals may come back a hair lower through float rounding; less than this is none.
_EPSILON_KWH = 1e-12

_meta = text(500)

EMISSIONS_DATA = RecordSchema(
    name="codecarbon_emissions_data",
    fields=(
        Field("run_id", text(64), required=True),
        Field("timestamp", timestamp(), required=True),
        Field("duration", number(min_value=0, max_value=MAX_DURATION_S), required=True),
        Field("energy_consumed", number(min_value=0, max_value=MAX_RECORD_KWH), required=True),
        Field("emissions", number(min_value=0)),
        Field("cpu_energy", number()),
        Field("gpu_energy", number()),
        Field("ram_energy", number()),
        Field("pue", number(min_value=1, max_value=5)),
        Field("project_name", text(200)),
        Field("experiment_id", text(64)),
        Field("country_iso_code", text(3)),
        Field("cloud_provider", text(20)),
        Field("cloud_region", text(60)),
        Field("codecarbon_version", _meta),
        Field("cpu_model", _meta),
        Field("gpu_model", _meta),
        Field("tracking_mode", _meta),
        Field("user", _meta),
    ),
    allow_unknown=True,
)

RUN_CREATE = RecordSchema(
    name="codecarbon_run",
    fields=(
        Field("experiment_id", text(64), required=True),
        Field("timestamp", timestamp()),
        Field("provider", text(20)),
        Field("region", text(60)),
        Field("codecarbon_version", _meta),
        Field("cpu_model", _meta),
        Field("gpu_model", _meta),
        Field("tracking_mode", _meta),
        Field("os", _meta),
    ),
    allow_unknown=True,
)

EMISSION_CREATE = RecordSchema(
    name="codecarbon_emission",
    fields=(
        Field("run_id", text(64), required=True),
        Field("timestamp", timestamp(), required=True),
        Field("duration", number(min_value=0, max_value=MAX_DURATION_S), required=True),
        Field("energy_consumed", number(min_value=0, max_value=MAX_RECORD_KWH), required=True),
        Field("emissions_sum", number(min_value=0)),
        Field("cpu_energy", number()),
        Field("gpu_energy", number()),
        Field("ram_energy", number()),
    ),
    allow_unknown=True,
)


@dataclass(frozen=True)
class CodeCarbonResult:
    run_id: str
    external_id: str
    created: int
    duplicates: int
    energy_kwh: float


def _validated(schema: RecordSchema, payload: Any) -> dict[str, Any]:
    clean, found = schema.validate_one(payload, batch_context())
    if found:
        raise ApplicationError(
            "Validation failed",
            errors=[{"field": field, "message": message} for field, message in found],
        )
    return clean


def _tag(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)[:200]


class _RunRefs:
    """The References interface of inventory.services for a run's already-resolved rows."""

    def __init__(self, run: CodeCarbonRun) -> None:
        self.teams = {run.team.slug: run.team_id}
        self.locations = {run.location.code: run.location_id}

    def hardware_id(self, code: str | None) -> None:
        return None


def _run_mapping(
    *,
    principal: Principal,
    project_name: str | None,
    experiment_id: str | None,
    cloud_provider: str | None,
    cloud_region: str | None,
    country: str | None,
) -> dict[str, Any]:
    """Team, model, phase and location of a new run (see the module docstring)."""
    organisation = principal.organisation
    rules = mapping_rules(principal=principal, source=MappingSource.CODECARBON)
    rule = match_rule(rules, {"project_name": project_name, "experiment_id": experiment_id})
    team = rule.team if rule else (principal.token.team if principal.token else None)
    if team is None:
        teams = list(Team.objects.filter(organisation=organisation)[:2])
        team = teams[0] if len(teams) == 1 else None
    if team is None or not principal.sees_team(team.id):
        raise ApplicationError(
            f"No team for CodeCarbon project {project_name!r} (experiment {experiment_id!r}): "
            "add a mapping rule (source codecarbon, key project_name or experiment_id) or use "
            "a token limited to one team",
            errors=[{"field": "project_name", "message": "No mapping rule matched"}],
        )
    location = None
    if rule and rule.location_code:
        location = location_by_code(organisation=organisation, code=rule.location_code)
    if location is None and cloud_provider and cloud_region:
        location = Location.objects.filter(
            organisation__isnull=True, code=f"{cloud_provider.lower()}:{cloud_region.lower()}"
        ).first()
    if location is None and country_alpha2(country):
        location = country_location(organisation=organisation, alpha2=country_alpha2(country))
    if location is None:
        raise ApplicationError(
            "Cannot tell where this CodeCarbon run ran: give country_iso_code or a cloud "
            "region, or add a mapping rule with a location",
            errors=[{"field": "country_iso_code", "message": "No location"}],
        )
    model_name = (rule.model_name if rule else "") or (
        project_name if project_name and project_name != DEFAULT_PROJECT else ""
    )
    model = None
    if model_name:
        model, _ = AiModel.objects.get_or_create(organisation=organisation, name=model_name[:160])
    return {
        "team": team,
        "location": location,
        "ai_model": model,
        "phase": (rule.phase if rule and rule.phase else Phase.OTHER),
    }


def _run_get_or_create(
    *, principal: Principal, run_id: str, mode: str, fields: dict[str, Any], mapping_args
) -> CodeCarbonRun:
    organisation = principal.organisation
    run = (
        CodeCarbonRun.objects.select_for_update(of=("self",))
        .select_related("team", "location", "ai_model")
        .filter(organisation=organisation, run_id=run_id)
        .first()
    )
    if run is not None:
        return run
    mapping = _run_mapping(principal=principal, **mapping_args)
    batch = IngestBatch.objects.create(
        organisation=organisation, source=IngestBatch.Source.CODECARBON, token=principal.token
    )
    try:
        with transaction.atomic():
            run = CodeCarbonRun.objects.create(
                organisation=organisation,
                run_id=run_id,
                mode=mode,
                token=principal.token,
                batch=batch,
                **mapping,
                **fields,
            )
    except IntegrityError:  # the same run registered concurrently
        return _run_get_or_create(
            principal=principal, run_id=run_id, mode=mode, fields=fields, mapping_args=None
        )
    return run


def _store_record(
    *,
    run: CodeCarbonRun,
    external_id: str,
    started_at: datetime,
    ended_at: datetime,
    energy_kwh: float,
    tags: dict[str, str],
) -> int:
    """Write one workload record for the run; returns 1 if new, 0 if stored before."""
    record = {
        "external_id": external_id,
        "team": run.team.slug,
        "model": run.ai_model.name if run.ai_model_id else None,
        "phase": run.phase,
        "started_at": started_at,
        "ended_at": ended_at,
        "location": run.location.code,
        "device_count": 1,
        "energy_kwh": energy_kwh,
        "energy_includes_pue": True,
        "tags": tags,
    }
    digest = content_hash(record)
    batch = BatchIds(run.batch_id, run.organisation_id)
    models = {run.ai_model.name: run.ai_model_id} if run.ai_model_id else {}
    row = WORKLOADS.build_row(record, digest, batch, _RunRefs(run), models)
    result = write_rows(
        WORKLOADS.table, organisation_id=run.organisation_id, rows=[row], row_numbers=[0]
    )
    if result.conflicts:
        raise ApplicationError(
            f"Record {external_id!r} was already stored with other content",
            errors=[{"field": "run_id", "message": "conflicting re-send"}],
            status_code=409,
        )
    IngestBatch.objects.filter(pk=run.batch_id).update(
        received=F("received") + 1,
        created=F("created") + result.created,
        duplicates=F("duplicates") + (1 - result.created),
    )
    if result.created:
        # The run's batch grows with each post: back on the sweep's queue until computed again.
        BatchComputation.objects.filter(batch_id=run.batch_id).delete()
        _queue_compute(run.batch_id)
    return result.created


def record_tags(*, run_id: str, emissions_kg: float | None, data: dict[str, Any]) -> dict:
    """What CodeCarbon said beside the energy, kept on the record for comparison."""
    tags = {"source": "codecarbon", "codecarbon_run_id": run_id}
    if emissions_kg is not None:
        tags["codecarbon_emissions_kg"] = _tag(emissions_kg)
    for key in ("pue", "project_name", "experiment_id", "codecarbon_version", "country_iso_code"):
        if data.get(key) not in (None, ""):
            name = key if key.startswith("codecarbon") else f"codecarbon_{key}"
            tags[name] = _tag(data[key])
    return tags


@transaction.atomic
def codecarbon_output_ingest(*, principal: Principal, payload: Any) -> CodeCarbonResult:
    """One EmissionsData post of CodeCarbon's HTTP output (running totals of a run)."""
    data = _validated(EMISSIONS_DATA, payload)
    run = _run_get_or_create(
        principal=principal,
        run_id=data["run_id"],
        mode=CodeCarbonRun.Mode.HTTP,
        fields={
            "experiment_id": data.get("experiment_id", ""),
            "project_name": data.get("project_name", ""),
            "metadata": {
                k: data[k] for k in ("cpu_model", "gpu_model", "tracking_mode") if k in data
            },
        },
        mapping_args={
            "project_name": data.get("project_name"),
            "experiment_id": data.get("experiment_id"),
            "cloud_provider": data.get("cloud_provider"),
            "cloud_region": data.get("cloud_region"),
            "country": data.get("country_iso_code"),
        },
    )
    duration, energy = data["duration"], data["energy_consumed"]
    external_id = f"{run.run_id}:{round(duration * 1000)}"
    stored = WorkloadRecord.objects.filter(
        organisation_id=run.organisation_id, external_id=external_id
    ).exists()
    if stored or duration < run.duration_s or energy < run.energy_kwh - _EPSILON_KWH:
        # A re-send, or an older total arriving late: already counted in later records.
        IngestBatch.objects.filter(pk=run.batch_id).update(
            received=F("received") + 1, duplicates=F("duplicates") + 1
        )
        return CodeCarbonResult(run.run_id, external_id, 0, 1, 0.0)
    delta_energy = max(0.0, energy - run.energy_kwh)
    emissions = data.get("emissions")
    delta_kg = None if emissions is None else max(0.0, emissions - run.emissions_kg)
    ended_at = data["timestamp"]
    started_at = run.last_ended_at or ended_at - timedelta(seconds=duration)
    created = _store_record(
        run=run,
        external_id=external_id,
        started_at=min(started_at, ended_at),
        ended_at=ended_at,
        energy_kwh=delta_energy,
        tags=record_tags(run_id=run.run_id, emissions_kg=delta_kg, data=data),
    )
    CodeCarbonRun.objects.filter(pk=run.pk).update(
        duration_s=duration,
        energy_kwh=energy,
        emissions_kg=emissions if emissions is not None else run.emissions_kg,
        last_ended_at=ended_at,
        posts=F("posts") + 1,
    )
    return CodeCarbonResult(run.run_id, external_id, created, 1 - created, delta_energy)


@transaction.atomic
def codecarbon_run_create(*, principal: Principal, payload: Any) -> CodeCarbonRun:
    """`POST /runs` of CodeCarbon's API client: register a run, answer its id."""
    import uuid

    data = _validated(RUN_CREATE, payload)
    metadata = {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in data.items()
        if k != "experiment_id"
    }
    return _run_get_or_create(
        principal=principal,
        run_id=str(uuid.uuid4()),
        mode=CodeCarbonRun.Mode.API,
        fields={"experiment_id": data["experiment_id"], "metadata": metadata},
        mapping_args={
            "project_name": None,
            "experiment_id": data["experiment_id"],
            "cloud_provider": data.get("provider"),
            "cloud_region": data.get("region"),
            "country": None,
        },
    )


@transaction.atomic
def codecarbon_emission_ingest(*, principal: Principal, payload: Any) -> CodeCarbonResult:
    """`POST /emissions` of CodeCarbon's API client: one delta of a registered run."""
    data = _validated(EMISSION_CREATE, payload)
    run = (
        CodeCarbonRun.objects.select_for_update(of=("self",))
        .select_related("team", "location", "ai_model")
        .filter(organisation=principal.organisation, run_id=data["run_id"])
        .first()
    )
    if run is None:
        raise ApplicationError(
            f"Unknown run {data['run_id']!r}: register it with POST /runs first",
            errors=[{"field": "run_id", "message": "Unknown run"}],
            status_code=404,
        )
    ended_at = data["timestamp"]
    external_id = f"{run.run_id}:{ended_at.isoformat()}"
    started_at = ended_at - timedelta(seconds=data["duration"])
    if run.last_ended_at and run.last_ended_at < ended_at:
        started_at = max(started_at, run.last_ended_at)
    energy = data["energy_consumed"]
    created = _store_record(
        run=run,
        external_id=external_id,
        started_at=started_at,
        ended_at=ended_at,
        energy_kwh=energy,
        tags=record_tags(
            run_id=run.run_id,
            emissions_kg=data.get("emissions_sum"),
            data={"experiment_id": run.experiment_id},
        ),
    )
    if created:
        CodeCarbonRun.objects.filter(pk=run.pk).update(
            duration_s=F("duration_s") + data["duration"],
            energy_kwh=F("energy_kwh") + energy,
            emissions_kg=F("emissions_kg") + (data.get("emissions_sum") or 0.0),
            last_ended_at=ended_at,
            posts=F("posts") + 1,
        )
    return CodeCarbonResult(
        run.run_id, external_id, created, 1 - created, energy if created else 0.0
    )
