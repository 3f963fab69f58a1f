"""CodeCarbon compatibility: what its HTTP output and its API client send, as workload records.

- HTTP output (`emissions_endpoint`): one EmissionsData per stop/flush holding the run's
  *running totals*. Each post becomes a record of what is new since the run's previous post
  (its external_id is `<run_id>:<total duration, ms>`), so flushes never count energy twice.
- API client (`save_to_api`): `POST /runs` registers a run, then every `POST /emissions` is a
  *delta*: one record each (external_id `<run_id>:<timestamp>`).

- emissions.csv (inventory.imports.codecarbon): each run's rows through the HTTP output's
  rule; an API-mode file (run_id `None`) completes its API run with what the posts lost.

`energy_consumed` already includes CodeCarbon's PUE (energy_includes_pue=True). CodeCarbon's
own kg CO2e stays beside the record in its tags; the portal recomputes emissions from energy
and location with its own factors. The team is that of a principal limited to one team, else
the first matching TeamMappingRule's (source codecarbon; keys project_name, experiment_id;
only rules of teams the principal reaches), else the organisation's only team; model, phase
and location come from that rule, the location else from the cloud region, else the country
(`country:XX`, see inventory.ingestion.mapping). Timestamps without an offset (CodeCarbon's
naive local time) are read in the organisation's time zone. docs/codecarbon.md says it all
for users.
"""

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from accounts.models import Team
from accounts.principal import Principal
from greenai_portal.db import first_where, prepared_cursor, row_inserted, table
from greenai_portal.errors import ApplicationError
from inventory.ingestion.fields import Field, RecordSchema, number, text, timestamp
from inventory.ingestion.mapping import (
    country_alpha2,
    country_location,
    located,
    location_by_code,
    mapping_rules,
    match_rule,
)
from inventory.ingestion.schemas import MAX_DURATION_S, MAX_RECORD_KWH, batch_context
from inventory.ingestion.services import WORKLOADS, BatchIds, _queue_compute, content_hash
from inventory.ingestion.writers import write_rows
from inventory.models import (
    AiModel,
    BatchComputation,
    CodeCarbonRun,
    IngestBatch,
    Location,
    MappingSource,
    Phase,
)

# CodeCarbon's default project name: it names no model.
DEFAULT_PROJECT = "codecarbon"
# Running totals may come back a hair lower through float rounding; less than this is none.
_EPSILON_KWH = 1e-12

_meta = text(500)
# The fields both of CodeCarbon's emission payloads (the API's and the saved file's) share,
# and the tracker's description that its runs and its saved emissions share.
_MEASUREMENT = (
    Field("run_id", text(64), required=True),
    Field("timestamp", timestamp(), required=True),
    Field("duration", number(min_value=0, max_value=MAX_DURATION_S), required=True),
    Field("energy_consumed", number(min_value=0, max_value=MAX_RECORD_KWH), required=True),
)
_ENERGY_BY_COMPONENT = (
    Field("cpu_energy", number()),
    Field("gpu_energy", number()),
    Field("ram_energy", number()),
)
_TRACKER = (
    Field("codecarbon_version", _meta),
    Field("cpu_model", _meta),
    Field("gpu_model", _meta),
    Field("tracking_mode", _meta),
)

EMISSIONS_DATA = RecordSchema(
    name="codecarbon_emissions_data",
    fields=(
        *_MEASUREMENT,
        Field("water_consumed", number(min_value=0)),
        Field("wue", number(min_value=0, max_value=20)),
        Field("emissions", number(min_value=0)),
        *_ENERGY_BY_COMPONENT,
        Field("pue", number(min_value=1, max_value=5)),
        Field("project_name", text(200)),
        Field("experiment_id", text(64)),
        Field("country_iso_code", text(3)),
        Field("cloud_provider", text(20)),
        Field("cloud_region", text(60)),
        *_TRACKER,
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
        *_TRACKER,
        Field("os", _meta),
    ),
    allow_unknown=True,
)

EMISSION_CREATE = RecordSchema(
    name="codecarbon_emission",
    fields=(
        *_MEASUREMENT,
        Field("wue", number(min_value=0, max_value=20)),
        Field("emissions_sum", number(min_value=0)),
        *_ENERGY_BY_COMPONENT,
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
    # The zone a timestamp without an offset was read in; None when it had one.
    time_zone: str | None = None


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


@dataclass(frozen=True)
class LockedRun:
    """A run's row as every post needs it, with the team slug, location code and model name
    its records name."""

    id: int
    run_id: str
    organisation_id: int
    batch_id: int
    team_id: int
    team_slug: str
    location_id: int
    location_code: str
    ai_model_id: int | None
    model_name: str | None
    phase: str
    experiment_id: str
    duration_s: float
    energy_kwh: float
    emissions_kg: float
    last_ended_at: datetime | None
    posts: int


def _as_datetime(value: datetime | str | None) -> datetime | None:
    """A timestamp column read without the ORM: SQLite hands back naive UTC (or its text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _locked_run(*, organisation_id: int, run_id: str) -> LockedRun | None:
    """The run, locked to the end of the transaction so that posts of one run queue up.

    One hand-written statement: this is every CodeCarbon post's path, and compiling the ORM's
    select_related query cost more than running it."""
    run, team, location, model = (table(m) for m in (CodeCarbonRun, Team, Location, AiModel))
    lock = " FOR UPDATE OF r" if connection.features.has_select_for_update_of else ""
    with prepared_cursor() as cursor:
        cursor.execute(
            "SELECT r.id, r.run_id, r.organisation_id, r.batch_id, r.team_id, t.slug, "  # noqa: S608 - identifiers are ours
            "r.location_id, l.code, r.ai_model_id, m.name, r.phase, r.experiment_id, "
            "r.duration_s, r.energy_kwh, r.emissions_kg, r.last_ended_at, r.posts "
            f"FROM {run} r JOIN {team} t ON t.id = r.team_id "
            f"JOIN {location} l ON l.id = r.location_id "
            f"LEFT JOIN {model} m ON m.id = r.ai_model_id "
            f"WHERE r.organisation_id = %s AND r.run_id = %s{lock}",
            [organisation_id, run_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return LockedRun(*row[:15], _as_datetime(row[15]), row[16])


def _visible_run(*, principal: Principal, run_id: str) -> LockedRun | None:
    """The run (locked), or None when the organisation has none by that id. A run of a team
    the principal is not limited to is another team's: 404, as any object out of reach."""
    run = _locked_run(organisation_id=principal.organisation.id, run_id=run_id)
    if run is not None and not principal.sees_team(run.team_id):
        raise _unknown_run(run_id)
    return run


def _unknown_run(run_id: str) -> ApplicationError:
    return ApplicationError(
        f"Unknown run {run_id!r}: no run of yours has this id (CodeCarbon's API client "
        "registers its run with POST /runs first)",
        errors=[{"field": "run_id", "message": "Unknown run"}],
        status_code=404,
    )


class _RunRefs:
    """The References interface of inventory.ingestion.services for a run's resolved rows."""

    def __init__(self, run: LockedRun) -> None:
        self.teams = {run.team_slug: run.team_id}
        self.locations = {run.location_code: run.location_id}

    def hardware_id(self, code: str | None) -> None:
        return None


# What each client sends that can name a team: CodeCarbon's API client sends only the
# experiment_id (its RunCreate has no project name and no country).
_ASKS_FOR = {CodeCarbonRun.Mode.API: "experiment_id", CodeCarbonRun.Mode.HTTP: "project_name"}


def _no_team_message(mode: str, project_name: str | None, experiment_id: str | None) -> str:
    if mode == CodeCarbonRun.Mode.API:
        sent = f"experiment_id {experiment_id!r} (CodeCarbon's API client sends nothing else)"
        rule = f"a mapping rule (source codecarbon) on experiment_id {experiment_id!r}"
    else:
        sent = f"project_name {project_name!r} and experiment_id {experiment_id!r}"
        rule = f"a mapping rule (source codecarbon) on project_name {project_name!r}"
    return (
        f"No team for this CodeCarbon run: it sent {sent}. Add {rule}, or send with a token "
        "limited to one team"
    )


def _no_location_message(mode: str, experiment_id: str | None) -> str:
    if mode == CodeCarbonRun.Mode.API:
        return (
            "Cannot tell where this CodeCarbon run ran: CodeCarbon's API client sends no "
            "country, and a cloud provider and region only on a cloud. Add a mapping rule "
            f"(source codecarbon) on experiment_id {experiment_id!r} with a location"
        )
    return (
        "Cannot tell where this CodeCarbon run ran: send country_iso_code (the tracker's "
        "country_iso_code), cloud_provider and cloud_region, or add a mapping rule "
        "(source codecarbon) with a location"
    )


def _run_mapping(
    *,
    principal: Principal,
    mode: str,
    project_name: str | None,
    experiment_id: str | None,
    cloud_provider: str | None,
    cloud_region: str | None,
    country: str | None,
) -> dict[str, Any]:
    """Team, model, phase and location of a new run (see the module docstring)."""
    organisation = principal.organisation
    # A principal limited to one team (a team token) posts for that team, whatever a rule
    # says: only that team's rules apply (for the model, phase and place).
    own_team = next(iter(principal.team_ids)) if len(principal.team_ids or ()) == 1 else None
    rules = [
        rule
        for rule in mapping_rules(principal=principal, source=MappingSource.CODECARBON)
        if principal.sees_team(rule.team_id)
    ]
    rule = match_rule(rules, {"project_name": project_name, "experiment_id": experiment_id})
    team_id = own_team or (rule.team_id if rule else None)
    if team_id is None:
        teams = list(
            Team.objects.filter(organisation=organisation).values_list("id", flat=True)[:2]
        )
        team_id = teams[0] if len(teams) == 1 else None
    if team_id is None or not principal.sees_team(team_id):
        raise ApplicationError(
            _no_team_message(mode, project_name, experiment_id),
            errors=[{"field": _ASKS_FOR[mode], "message": "No mapping rule matched"}],
        )
    team = first_where(Team, "id = %s", [team_id])
    location = None
    if rule and rule.location_code:
        location = location_by_code(organisation=organisation, code=rule.location_code)
        if location is None:
            raise ApplicationError(
                f"The mapping rule {rule.key}={rule.value} names location "
                f"{rule.location_code!r}, which does not exist: fix the rule",
                errors=[{"field": "location", "message": "Unknown location in mapping rule"}],
            )
    if location is None and cloud_provider and cloud_region:
        location = located(
            organisation_id=None, code=f"{cloud_provider.lower()}:{cloud_region.lower()}"
        )
    if location is None and country_alpha2(country):
        location = country_location(organisation=organisation, alpha2=country_alpha2(country))
    if location is None:
        raise ApplicationError(
            _no_location_message(mode, experiment_id),
            errors=[{"field": "location", "message": "No location"}],
        )
    model_name = (rule.model_name if rule else "") or (
        project_name if project_name and project_name != DEFAULT_PROJECT else ""
    )
    model = None
    if model_name:
        name = model_name[:160]
        model = (
            first_where(AiModel, "organisation_id = %s AND name = %s", [organisation.id, name])
            or AiModel.objects.get_or_create(organisation=organisation, name=name)[0]
        )
    return {
        "team": team,
        "location": location,
        "ai_model": model,
        "phase": (rule.phase if rule and rule.phase else Phase.OTHER),
    }


def _run_get_or_create(
    *, principal: Principal, run_id: str, mode: str, fields: dict[str, Any], mapping_args
) -> LockedRun:
    organisation = principal.organisation
    run = _visible_run(principal=principal, run_id=run_id)
    if run is not None:
        return run
    mapping = _run_mapping(principal=principal, mode=mode, **mapping_args)
    token_id = principal.token.id if principal.token else None
    batch_id = row_inserted(
        IngestBatch,
        {
            "organisation_id": organisation.id,
            "source": IngestBatch.Source.CODECARBON,
            "token_id": token_id,
        },
    )
    team, location, model = mapping["team"], mapping["location"], mapping["ai_model"]
    run_pk = row_inserted(
        CodeCarbonRun,
        {
            "organisation_id": organisation.id,
            "run_id": run_id,
            "mode": mode,
            "token_id": token_id,
            "batch_id": batch_id,
            "team_id": team.id,
            "location_id": location.id,
            "ai_model_id": model.id if model else None,
            "phase": mapping["phase"],
            **fields,
        },
    )
    if run_pk is None:  # the same run, registered by a concurrent post a moment ago
        IngestBatch.objects.filter(pk=batch_id).delete()
        return _visible_run(principal=principal, run_id=run_id)
    # Its row is this transaction's until commit: a concurrent post of the run waits for it.
    return LockedRun(
        id=run_pk,
        run_id=run_id,
        organisation_id=organisation.id,
        batch_id=batch_id,
        team_id=team.id,
        team_slug=team.slug,
        location_id=location.id,
        location_code=location.code,
        ai_model_id=model.id if model else None,
        model_name=model.name if model else None,
        phase=mapping["phase"],
        experiment_id=fields["experiment_id"],
        # A new run: nothing counted yet.
        duration_s=0.0,
        energy_kwh=0.0,
        emissions_kg=0.0,
        last_ended_at=None,
        posts=0,
    )


def codecarbon_water(data: dict[str, Any], energy_kwh: float) -> float | None:
    """CodeCarbon's own water (litres) for `energy_kwh` of a post: its water_consumed in the
    proportion of the energy (CodeCarbon writes water = WUE × energy after PUE, so the share
    is exact), else its wue × the energy; None when it had no WUE (its default, 0)."""
    water, energy = data.get("water_consumed"), data["energy_consumed"]
    if water and energy:
        return energy_kwh * (water / energy)
    return energy_kwh * data["wue"] if data.get("wue") else None


def _store_record(
    *,
    run: LockedRun,
    external_id: str,
    started_at: datetime,
    ended_at: datetime,
    energy_kwh: float,
    water_l: float | None,
    tags: dict[str, str],
) -> int:
    """Write one workload record for the run; returns 1 if new, 0 if stored before."""
    # water_l only when known: records without it keep the content hash they always had.
    measured = {} if water_l is None else {"water_l": water_l}
    record = {
        **measured,
        "external_id": external_id,
        "team": run.team_slug,
        "model": run.model_name,
        "phase": run.phase,
        "started_at": started_at,
        "ended_at": ended_at,
        "location": run.location_code,
        "device_count": 1,
        "energy_kwh": energy_kwh,
        "energy_includes_pue": True,
        "tags": tags,
    }
    digest = content_hash(record, WORKLOADS.schema.content_fields)
    batch = BatchIds(run.batch_id, run.organisation_id)
    models = {run.model_name: run.ai_model_id} if run.ai_model_id else {}
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
    return result.created


def _post_counted(
    run: LockedRun,
    *,
    created: int,
    duration_s: float,
    energy_kwh: float,
    emissions_kg: float,
    ended_at: datetime | None,
) -> None:
    """The run's new totals and its batch's counters. A new record puts the batch back on the
    sweep's queue (its computation no longer covers it) and queues its computation, unless a
    task for the batch is queued and not started yet: that one will compute this record too,
    since it takes the flag off (waiting for this transaction, which holds the batch's row)
    before it reads the batch's pending records. One round trip on Postgres."""
    batch, computation, runs = (table(m) for m in (IngestBatch, BatchComputation, CodeCarbonRun))
    first_to_queue = False  # this post set the batch's flag: no task is queued yet
    with prepared_cursor(pipeline=True) as cursor:
        cursor.execute(
            f"UPDATE {batch} SET received = received + 1, created = created + %s, "  # noqa: S608 - identifiers are ours
            "duplicates = duplicates + %s WHERE id = %s",
            [created, 1 - created, run.batch_id],
        )
        if created:
            cursor.execute(
                f"UPDATE {runs} SET duration_s = %s, energy_kwh = %s, emissions_kg = %s, "  # noqa: S608
                "last_ended_at = %s, posts = posts + 1 WHERE id = %s",
                [
                    duration_s,
                    energy_kwh,
                    emissions_kg,
                    connection.ops.adapt_datetimefield_value(ended_at),
                    run.id,
                ],
            )
            cursor.execute(f"DELETE FROM {computation} WHERE batch_id = %s", [run.batch_id])  # noqa: S608
            cursor.execute(
                f"UPDATE {batch} SET compute_queued = %s WHERE id = %s AND NOT compute_queued "  # noqa: S608
                "RETURNING id",
                [True, run.batch_id],
            )
            first_to_queue = cursor.fetchone() is not None
    if first_to_queue:
        _queue_compute(run.batch_id)


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


def codecarbon_local_time(value: Any, zone: ZoneInfo) -> Any:
    """CodeCarbon's `timestamp` with an offset: its own when written, else `zone`'s (the
    tracker writes naive local time). A value that is no time is left for the schema."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        return value
    return moment.replace(tzinfo=zone).isoformat()


def _emissions_data(payload: Any, zone: ZoneInfo) -> tuple[dict[str, Any], str | None]:
    """A validated EmissionsData, and the zone its timestamp was read in (None: it had an
    offset)."""
    stamp = payload.get("timestamp") if isinstance(payload, dict) else None
    local = codecarbon_local_time(stamp, zone)
    if local is stamp:
        return _validated(EMISSIONS_DATA, payload), None
    return _validated(EMISSIONS_DATA, {**payload, "timestamp": local}), zone.key


def _totals_run(*, principal: Principal, data: dict[str, Any], run_id: str) -> LockedRun:
    """The run whose running totals `data` carries (HTTP output, emissions.csv)."""
    return _run_get_or_create(
        principal=principal,
        run_id=run_id,
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


def _totals_ingest(run: LockedRun, data: dict[str, Any]) -> tuple[CodeCarbonResult, LockedRun]:
    """Store what a run's running totals add to those already counted; the run as it is
    after them."""
    duration, energy = data["duration"], data["energy_consumed"]
    external_id = f"{run.run_id}:{round(duration * 1000)}"
    # The run holds the totals already stored (its row is locked): a total no later than
    # them is a re-send, or an older post arriving late, already counted.
    counted = run.posts and round(duration * 1000) <= round(run.duration_s * 1000)
    if counted or energy < run.energy_kwh - _EPSILON_KWH:
        _post_counted(run, created=0, duration_s=0, energy_kwh=0, emissions_kg=0, ended_at=None)
        return CodeCarbonResult(run.run_id, external_id, 0, 1, 0.0), run
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
        water_l=codecarbon_water(data, delta_energy),
        tags=record_tags(run_id=run.run_id, emissions_kg=delta_kg, data=data),
    )
    totals = {
        "duration_s": duration,
        "energy_kwh": energy,
        "emissions_kg": emissions if emissions is not None else run.emissions_kg,
    }
    _post_counted(run, created=created, ended_at=ended_at, **totals)
    if created:
        run = replace(run, **totals, last_ended_at=ended_at, posts=run.posts + 1)
    return CodeCarbonResult(run.run_id, external_id, created, 1 - created, delta_energy), run


@transaction.atomic
def codecarbon_output_ingest(*, principal: Principal, payload: Any) -> CodeCarbonResult:
    """One EmissionsData post of CodeCarbon's HTTP output (running totals of a run); a
    timestamp without an offset is read in the organisation's time zone."""
    data, zone = _emissions_data(payload, ZoneInfo(principal.organisation.time_zone))
    run = _totals_run(principal=principal, data=data, run_id=data["run_id"])
    result, _ = _totals_ingest(run, data)
    return replace(result, time_zone=zone)


# --- emissions.csv: one run at a time ---------------------------------------------------

# emissions.csv's run_id when the tracker posted to an API: the tracker's run id is None.
API_MODE_RUN_ID = "None"
# How far a file's run may lie from the API run it is: clocks, and the file's whole seconds.
_API_RUN_SLACK = timedelta(seconds=60)


@dataclass(frozen=True)
class FileRunResult:
    run_id: str
    rows: int
    created: int
    duplicates: int
    energy_kwh: float
    # The run was posted by CodeCarbon's API client; the file only adds what its posts lost.
    completes_api_run: bool


def _file_rows(rows: list[tuple[int, dict[str, Any]]], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The run's rows validated; the first bad row refuses the run, naming its line."""
    clean = []
    for line, raw in rows:
        try:
            clean.append(_emissions_data(raw, zone)[0])
        except ApplicationError as error:
            reasons = "; ".join(f"{e['field']}: {e['message']}" for e in error.errors)
            raise ApplicationError(
                f"Line {line}: {reasons or error.message}",
                errors=[{**e, "line": line} for e in error.errors],
            ) from None
    return clean


@transaction.atomic
def codecarbon_file_run_ingest(
    *, principal: Principal, rows: list[tuple[int, dict[str, Any]]], zone: ZoneInfo
) -> FileRunResult:
    """One run of an emissions.csv: its (line, row) pairs in file order, running totals.

    The rows go through the HTTP output's rule, so whatever the run's posts stored already
    counts once. A tracker that posted to the API writes run_id `None`: the run is the API
    run of the same experiment_id whose last post falls within the file's span; the file then
    adds only what the posts lost. With no such run, the file's run gets an id of its own
    (`file-…`, from its experiment and start, so a re-import finds it)."""
    data = _file_rows(rows, zone)
    first, last = data[0], data[-1]
    if first["run_id"] != API_MODE_RUN_ID:
        return _file_totals(
            _totals_run(principal=principal, data=first, run_id=first["run_id"]), data
        )
    started_at = first["timestamp"] - timedelta(seconds=first["duration"])
    experiment_id = first.get("experiment_id", "")
    api_run = _api_run_of(
        principal=principal, experiment_id=experiment_id, start=started_at, end=last["timestamp"]
    )
    if api_run is not None:
        return _api_run_completed(api_run, data)
    digest = hashlib.sha256(f"{experiment_id}|{started_at.isoformat()}".encode()).hexdigest()
    run = _totals_run(principal=principal, data=first, run_id=f"file-{digest[:40]}")
    return _file_totals(run, data)


def _file_totals(run: LockedRun, data: list[dict[str, Any]]) -> FileRunResult:
    created = duplicates = 0
    energy = 0.0
    for row in data:
        result, run = _totals_ingest(run, row)
        created, duplicates = created + result.created, duplicates + result.duplicates
        energy += result.energy_kwh if result.created else 0.0
    return FileRunResult(run.run_id, len(data), created, duplicates, energy, False)


def _api_run_of(
    *, principal: Principal, experiment_id: str, start: datetime, end: datetime
) -> LockedRun | None:
    """The API run of this experiment whose last post (the client's clock, with its offset)
    falls within the file's run, the nearest to its end."""
    runs = principal.visible(CodeCarbonRun.objects.all()).filter(
        mode=CodeCarbonRun.Mode.API,
        experiment_id=experiment_id,
        last_ended_at__gte=start - _API_RUN_SLACK,
        last_ended_at__lte=end + _API_RUN_SLACK,
    )
    nearest = min(runs, key=lambda r: abs(r.last_ended_at - end), default=None)
    return None if nearest is None else _visible_run(principal=principal, run_id=nearest.run_id)


def _api_run_completed(run: LockedRun, data: list[dict[str, Any]]) -> FileRunResult:
    """Store the energy of the file's final totals that the API run's posts did not bring
    (a post lost, or not sent: the client drops deltas shorter than a second)."""
    last = data[-1]
    energy = last["energy_consumed"]
    missing = energy - run.energy_kwh
    if missing <= max(_EPSILON_KWH, 1e-9 * energy):
        _post_counted(run, created=0, duration_s=0, energy_kwh=0, emissions_kg=0, ended_at=None)
        return FileRunResult(run.run_id, len(data), 0, len(data), 0.0, True)
    ended_at = max(last["timestamp"], run.last_ended_at or last["timestamp"])
    emissions = last.get("emissions")
    created = _store_record(
        run=run,
        external_id=f"{run.run_id}:file:{round(last['duration'] * 1000)}",
        started_at=min(run.last_ended_at or ended_at, ended_at),
        ended_at=ended_at,
        energy_kwh=missing,
        water_l=codecarbon_water(last, missing),
        tags=record_tags(
            run_id=run.run_id,
            emissions_kg=None if emissions is None else max(0.0, emissions - run.emissions_kg),
            data=last,
        ),
    )
    _post_counted(
        run,
        created=created,
        duration_s=max(run.duration_s, last["duration"]),
        energy_kwh=energy,
        emissions_kg=max(run.emissions_kg, emissions or 0.0),
        ended_at=ended_at,
    )
    return FileRunResult(
        run.run_id, len(data), created, len(data) - created, missing if created else 0.0, True
    )


@transaction.atomic
def codecarbon_run_create(*, principal: Principal, payload: Any) -> LockedRun:
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
    run = _visible_run(principal=principal, run_id=data["run_id"])
    if run is None:
        raise _unknown_run(data["run_id"])
    ended_at = data["timestamp"]
    external_id = f"{run.run_id}:{ended_at.isoformat()}"
    started_at = ended_at - timedelta(seconds=data["duration"])
    if run.last_ended_at and run.last_ended_at < ended_at:
        started_at = max(started_at, run.last_ended_at)
    energy, emissions = data["energy_consumed"], data.get("emissions_sum")
    created = _store_record(
        run=run,
        external_id=external_id,
        started_at=started_at,
        ended_at=ended_at,
        energy_kwh=energy,
        water_l=codecarbon_water(data, energy),
        tags=record_tags(
            run_id=run.run_id,
            emissions_kg=emissions,
            data={"experiment_id": run.experiment_id},
        ),
    )
    _post_counted(
        run,
        created=created,
        duration_s=run.duration_s + data["duration"],
        energy_kwh=run.energy_kwh + energy,
        emissions_kg=run.emissions_kg + (emissions or 0.0),
        ended_at=ended_at,
    )
    return CodeCarbonResult(
        run.run_id, external_id, created, 1 - created, energy if created else 0.0
    )
