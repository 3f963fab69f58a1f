"""Two organisations with one object of every kind, callers for every role and scope.

Used by the isolation matrix and the security checks. Every organisation-specific name carries
the organisation's slug ("acme" / "globex"), so a response can be searched for the other
organisation's slug: finding it is a leak. Likewise every name of the team "research" carries
RESEARCH_ONLY, so a response to a caller limited to the team "serving" (the engineer, the team
token) must not contain it.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership, Role, Team
from accounts.principal import Principal, principal_for_membership
from accounts.services import api_token_create
from inventory.factors.library import factor_dataset_load
from inventory.imports.services import import_job_create
from inventory.ingestion.services import workload_batch_ingest
from inventory.llm.estimation import llm_usage_estimate
from inventory.llm.services import llm_usage_ingest
from inventory.models import (
    AiModel,
    ContractualInstrument,
    CustomLlm,
    ElectricityTariff,
    FacilityWue,
    FactorOverride,
    ImportFormat,
    ImportJob,
    LlmUsageRecord,
    Location,
    PrometheusSource,
    RecalculationJob,
    TeamMappingRule,
    WorkloadRecord,
)
from inventory.pipeline import records_compute
from reports.models import ReportExport, Target
from reports.services import report_close_prepare, report_lock
from tests.conftest import FAST_HASHERS, Tenant, make_tenant, workload


@contextmanager
def module_transaction(django_db_blocker) -> Iterator[None]:
    """For a module fixture: the factor library loaded in a transaction rolled back when the
    module is done, so its tests (each in a savepoint of its own) share what it builds."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            factor_dataset_load()
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


ROLES = tuple(Role.values)  # admin, esg_officer, engineer, auditor
# Token kinds and their scopes; "team" is limited to the team "serving".
TOKEN_SCOPES = {
    "ingest": ["ingest"],
    "read": ["read"],
    "manage": ["manage"],
    "team": ["ingest", "read"],
}
LIMITED_TEAM = "serving"
RESEARCH_ONLY = "research-only"  # in every name of the other team's objects
# Who calls: each role of a session user, each token scope, and nobody.
SAME = "same"
OTHER = "other"
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Caller:
    org: str  # SAME, OTHER or ANONYMOUS
    kind: str  # a role, "token:<scope>" or "anonymous"

    @property
    def label(self) -> str:
        return self.kind if self.org == ANONYMOUS else f"{self.org}:{self.kind}"

    @property
    def is_token(self) -> bool:
        return self.kind.startswith("token:")

    @property
    def role(self) -> str | None:
        return None if self.is_token or self.org == ANONYMOUS else self.kind

    @property
    def scope(self) -> str | None:
        """The token kind: a key of TOKEN_SCOPES."""
        return self.kind.split(":", 1)[1] if self.is_token else None

    @property
    def team_limited(self) -> bool:
        """Limited to the team LIMITED_TEAM: the engineer and the team token."""
        return self.kind in (Role.ENGINEER, "token:team")


CALLERS = (
    *(Caller(SAME, role) for role in ROLES),
    *(Caller(SAME, f"token:{kind}") for kind in TOKEN_SCOPES),
    *(Caller(OTHER, role) for role in ROLES),
    *(Caller(OTHER, f"token:{kind}") for kind in TOKEN_SCOPES),
    Caller(ANONYMOUS, "anonymous"),
)


@dataclass
class OrgWorld:
    """One organisation and an object of every kind a URL can name."""

    tenant: Tenant
    keys: dict[str, str] = field(default_factory=dict)  # token kind -> key
    objects: dict[str, int | str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.tenant.organisation.slug


@dataclass
class World:
    same: OrgWorld
    other: OrgWorld
    clients: dict[str, APIClient] = field(default_factory=dict)

    def org(self, caller: Caller) -> OrgWorld | None:
        return {SAME: self.same, OTHER: self.other}.get(caller.org)

    def client(self, caller: Caller) -> APIClient:
        return self.clients[caller.label]

    def key(self, caller: Caller) -> str | None:
        org = self.org(caller)
        return org.keys[caller.scope] if org and caller.is_token else None


def _job(external_id: str, day: date, team: str = "research", **extra) -> dict:
    return workload(
        external_id=external_id,
        team=team,
        started_at=f"{day.isoformat()}T00:00:00Z",
        ended_at=f"{day.isoformat()}T10:00:00Z",
        avg_power_w=500.0,
        utilization=None,
        **extra,
    )


def _llm_usage(tenant: Tenant, slug: str) -> LlmUsageRecord:
    """Two requests of the team research to an LLM API, estimated."""
    admin = principal_for_membership(tenant.members[Role.ADMIN])
    row = {
        "external_id": f"{slug}-{RESEARCH_ONLY}-llm",
        "team": "research",
        "application": f"{slug}-{RESEARCH_ONLY}-assistant",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "output_tokens": 500,
        "requests": 2,
        "latency_s": 1.5,
        "started_at": "2026-01-06T09:00:00Z",
        "ended_at": "2026-01-06T10:00:00Z",
    }
    llm_usage_ingest(principal=admin, rows=[row])
    llm_usage_estimate(organisation_id=tenant.organisation.pk)
    return LlmUsageRecord.objects.get(organisation=tenant.organisation)


def _ingest(tenant: Tenant, records: list[dict]) -> None:
    from inventory.ingestion.schemas import WORKLOAD, batch_context

    admin = principal_for_membership(tenant.members[Role.ADMIN])
    clean, errors = WORKLOAD.validate(records, batch_context())
    assert not errors, errors.errors
    workload_batch_ingest(principal=admin, records=clean)
    records_compute()


def build_org(slug: str) -> OrgWorld:
    """An organisation (conftest.make_tenant) with data in 2026 Q1 (locked) and Q2 (open)."""
    tenant = make_tenant(slug)
    org = tenant.organisation
    research = tenant.teams["research"]
    research.name = f"Research {RESEARCH_ONLY}"
    research.save(update_fields=["name"])
    admin_user = tenant.members[Role.ADMIN].user
    world = OrgWorld(tenant)
    for kind, scopes in TOKEN_SCOPES.items():
        _, world.keys[kind] = api_token_create(
            organisation=org,
            name=f"{slug}-caller-{kind}",
            scopes=scopes,
            team=tenant.teams[LIMITED_TEAM] if kind == "team" else None,
        )
    # A token that URLs name (revoke), not one a caller uses.
    target_token, _ = api_token_create(
        organisation=org, name=f"{slug}-target-token", scopes=["ingest"]
    )
    model = f"{slug}-{RESEARCH_ONLY}-model"
    # Q1: computed and locked; a record that arrived after the lock makes a restatement real.
    _ingest(tenant, [_job(f"{slug}-jan", date(2026, 1, 5), model=model)])
    admin = principal_for_membership(tenant.members[Role.ADMIN])
    version = report_lock(principal=admin, year=2026, quarter=1, user=admin_user)
    _ingest(tenant, [_job(f"{slug}-feb-late", date(2026, 2, 5), model=model)])
    # Q2: computed, open: lockable.
    _ingest(tenant, [_job(f"{slug}-may", date(2026, 5, 5), model=model)])
    # ... and prepared for closing by the ESG officer: a second person approves or sends back.
    esg_officer = tenant.members[Role.ESG_OFFICER]
    report_close_prepare(
        principal=principal_for_membership(esg_officer),
        year=2026,
        quarter=2,
        note=f"{slug} Q2 checked",
        user=esg_officer.user,
    )

    export = ReportExport.objects.create(
        organisation=org,
        year=2026,
        quarter=1,
        report_version=version,
        status=ReportExport.Status.DONE,
        progress=100,
        pdf=b"%PDF-1.4 " + slug.encode(),
        pdf_sha256=hashlib.sha256(slug.encode()).hexdigest(),
        pdf_bytes=13,
    )
    instrument = ContractualInstrument.objects.create(
        organisation=org,
        kind="eac",
        zone="FR",
        valid_from=date(2026, 7, 1),
        valid_to=date(2026, 12, 31),
        mwh=1.0,
        kg_per_kwh=0.0,
        reference=f"{slug}-go-certificate",
    )
    override = FactorOverride.objects.create(
        organisation=org,
        zone="DE",
        kind="grid_average",
        valid_from=date(2026, 7, 1),
        valid_to=date(2026, 12, 31),
        kg_per_kwh=0.3,
        source=f"{slug} supplier letter",
    )
    # 2025: no record of the world falls in it, so no result names the row (it may be deleted).
    facility_wue = FacilityWue.objects.create(
        organisation=org,
        location=Location.objects.get(organisation=org, code="lab-paris"),
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 12, 31),
        wue_l_per_kwh=1.8,
        source=f"{slug} metered site water 2025",
    )
    tariff = ElectricityTariff.objects.create(
        organisation=org,
        location=Location.objects.get(organisation=org, code="lab-paris"),
        valid_from=date(2026, 7, 1),
        valid_to=date(2026, 12, 31),
        price_per_kwh=0.18,
        currency="EUR",
        source=f"{slug} supply contract",
    )
    rule = TeamMappingRule.objects.create(
        organisation=org, key="tag:team", value=f"{slug}-{RESEARCH_ONLY}-rule", team=research
    )
    # CodeCarbon runs of any project go to research (the organisation has two teams).
    TeamMappingRule.objects.create(
        organisation=org,
        source="codecarbon",
        key="project_name",
        value="*",
        team=tenant.teams["research"],
        location_code="lab-paris",
    )
    # Imports by the whole organisation (what URLs name), by the team research and by the
    # team serving: a caller limited to serving reads the last one only.
    job = _import(admin, f"{slug}-{RESEARCH_ONLY}-all.csv", "research")
    _import(_limited_to(admin, tenant.teams["research"]), f"{slug}-{RESEARCH_ONLY}.csv", "research")
    _import(_limited_to(admin, tenant.teams[LIMITED_TEAM]), f"{slug}-serving.csv", "serving")
    recalculation = RecalculationJob.objects.create(
        organisation=org, trigger="manual", description=f"{slug} recalculation"
    )
    january = WorkloadRecord.objects.get(organisation=org, external_id=f"{slug}-jan")
    llm_usage = _llm_usage(tenant, slug)
    custom_llm = CustomLlm.objects.create(
        organisation=org, provider="mistralai", name=f"{slug}-support-model",
        active_parameters_b=24, total_parameters_b=24, source_note=f"{slug} model card",
    )  # fmt: skip
    target = Target.objects.create(
        organisation=org, name=f"{slug} budget", kind="budget", scope="scope2",
        basis="energy", budget=1.0, webhook_secret="0" * 64,
    )  # fmt: skip
    prometheus = PrometheusSource.objects.create(
        organisation=org,
        name=f"{slug} cluster",
        url="http://127.0.0.1:9/",
        location=Location.objects.get(organisation=org, code="lab-paris"),
    )
    world.objects = {
        "slug": "research",  # a team slug: the team-limited engineer is on "serving"
        "model_id": AiModel.objects.get(organisation=org, name=model).pk,
        "member": tenant.members[Role.AUDITOR].pk,
        "token": target_token.pk,
        "facility": Location.objects.get(organisation=org, code="lab-paris").pk,
        "instrument": instrument.pk,
        "override": override.pk,
        "facility_wue": facility_wue.pk,
        "tariff": tariff.pk,
        "mapping_rule": rule.pk,
        "prometheus_source": prometheus.pk,
        "target": target.pk,
        "custom_llm": custom_llm.pk,
        "report_version": version.pk,
        "report_export": export.pk,
        "import_job": job.pk,
        "recalculation": recalculation.pk,
        # A research record and its batch: the team-limited engineer may not open them.
        "workload_record": january.pk,
        "batch": january.batch_id,
        # Research's LLM API usage, in a batch of its own.
        "llm_usage_record": llm_usage.pk,
        "llm_usage_batch": llm_usage.batch_id,
    }
    return world


def _limited_to(principal: Principal, team: Team) -> Principal:
    return replace(principal, team_ids=frozenset({team.id}))


def _import(principal: Principal, name: str, team: str) -> ImportJob:
    csv = "external_id,team,phase,started_at,ended_at,location,energy_kwh\n"
    csv += f"{name}-1,{team},training,2026-01-02T00:00:00Z,2026-01-02T01:00:00Z,lab-paris,1.5\n"
    return import_job_create(
        principal=principal,
        upload=SimpleUploadedFile(name, csv.encode(), content_type="text/csv"),
        file_format=ImportFormat.PORTAL_WORKLOADS_CSV,
    )


def build_world(same: str = "acme", other: str = "globex") -> World:
    world = World(build_org(same), build_org(other))
    for caller in CALLERS:
        client = APIClient()
        org = world.org(caller)
        if caller.role:
            client.force_login(org.tenant.members[caller.role].user)
        elif caller.is_token:
            client.credentials(HTTP_AUTHORIZATION=f"Token {org.keys[caller.scope]}")
        world.clients[caller.label] = client
    return world


# --- A fingerprint of every organisation-owned row, to prove a refused call changed nothing --

_VOLATILE = {"last_used_at"}


def _organisation_models():
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.app_label not in ("accounts", "inventory", "reports"):
            continue
        names = {f.name for f in model._meta.concrete_fields}
        if "organisation" in names or model in (Membership, ApiToken):
            yield model, [n for n in sorted(names) if n not in _VOLATILE]


def fingerprint() -> str:
    """A hash of every row that belongs to an organisation (and of users)."""
    from django.contrib.auth import get_user_model

    tables = [(model, names) for model, names in _organisation_models()]
    tables.append((get_user_model(), ["id", "username", "password", "is_active"]))
    if connection.vendor == "postgresql":
        # One round trip: each table's rows as JSON text, hashed in the database.
        parts = []
        for model, _names in tables:
            table = connection.ops.quote_name(model._meta.db_table)
            drop = " ".join(f"- '{name}'" for name in sorted(_VOLATILE))
            pk = connection.ops.quote_name(model._meta.pk.column)
            parts.append(
                f"(SELECT md5(coalesce(string_agg((to_jsonb(t) {drop})::text, '|' "
                f"ORDER BY t.{pk}), '')) FROM {table} t)"
            )
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + " || ".join(parts))
            return cursor.fetchone()[0]
    digest = hashlib.sha256()
    for model, names in tables:
        rows = model.objects.order_by("pk").values_list(*names)
        digest.update(f"{model._meta.label}:{list(rows)!r}".encode())
    return digest.hexdigest()
