"""LLM API usage in the record browser: the records behind an LLM figure, each one's EcoLogits
lineage (its figures are EcoLogits' own for the same request), its batch, its CSV; teams and
tenants respected; the dashboards' LLM card opens them."""

import csv
import io
import json
from datetime import date

import pytest
from ecologits.electricity_mix_repository import electricity_mixes
from ecologits.model_repository import models
from ecologits.tracers.utils import PROVIDER_CONFIG_MAP, llm_impacts

from accounts.principal import principal_for_membership
from inventory.llm.estimation import llm_usage_estimate
from inventory.llm.selectors import Range
from inventory.llm.services import custom_llm_create
from inventory.models import AiModel, IngestBatch, LlmUsageRecord
from reports.records_selectors import LLM_KIND, RecordFilters, record_page
from reports.templatetags.dashboard_tags import span
from tests.inventory.llm.test_llm_usage_estimate import ecologits_ranges, ecologits_request
from tests.inventory.llm.test_llm_usage_ingest import post, usage
from tests.inventory.otlp.test_decoding import OTLP_JSON
from tests.inventory.otlp.test_otlp_api import bearer_client, token_key
from tests.inventory.otlp.test_otlp_api import post as post_otlp
from tests.reports.closing import close_quarter
from tests.reports.test_footprint_api import seed
from tests.reports.test_footprint_llm_api import bounds, seed_llm
from tests.reports.test_record_browser import listed, record_links

Q1 = "start=2026-01-01&end=2026-04-01"
API = "/api/v1/records/llm-usage/"


def llm_listed(client, query: str) -> list[dict]:
    return listed(client, query, kind=LLM_KIND)


def external_ids(records: list[dict]) -> list[str]:
    return [r["external_id"] for r in records]


def record_of(tenant, external_id: str) -> LlmUsageRecord:
    return LlmUsageRecord.objects.get(organisation=tenant.organisation, external_id=external_id)


def repository_request(provider: str, model: str, output_tokens: float, latency_s: float):
    """EcoLogits' own impacts of one request of a model of its repository, with the
    repository's parameter counts and deployment."""
    found = models.find_model(provider=provider, model_name=model)
    parameters = found.architecture.parameters
    active = getattr(parameters, "active", parameters)
    total = getattr(parameters, "total", parameters)
    return ecologits_request(provider, active, total, output_tokens, latency_s, found.deployment)


def step_ranges(steps: list[dict], of: str) -> list[float]:
    """min, max of each step in turn: energy, GWP usage, GWP embodied, water."""
    return [step[of][end] for step in steps for end in ("min", "max")]


def flat(ranges: dict[str, tuple[float, float]]) -> list[float]:
    return [bound for pair in ranges.values() for bound in pair]


def declare_and_send(tenant, name: str, active: float, total: float, note: str, **sent) -> None:
    """Declare a model served by Mistral AI and send one usage record (chat-1) of it."""
    custom_llm_create(
        organisation=tenant.organisation,
        provider="mistralai",
        name=name,
        active_parameters_b=active,
        total_parameters_b=total,
        source_note=note,
    )
    record = usage(provider="mistralai", model=name, **sent)
    assert post(tenant.token_client(), [record]).status_code == 201


@pytest.mark.django_db
class TestLlmRecordList:
    def test_the_records_sum_to_the_footprint_figure(self, tenant):
        seed_llm(tenant)
        client = tenant.client_for("auditor")
        records = llm_listed(client, Q1)
        # Newest first: r-1 and s-1 on 2 March (r-1 stored last), s-2 on 2 February.
        assert external_ids(records) == ["r-1", "s-1", "s-2"]
        body = client.get(f"{API}?{Q1}").json()
        figure = client.get(f"/api/v1/footprint/?{Q1}&group_by=team").json()["totals"]["llm_api"]
        assert body["totals"] == figure
        # 3 gpt-4o-mini requests of 500 tokens at 2 s + 1 claude-haiku-4-5 request of 200
        # tokens at 1 s, each EcoLogits' range.
        gpt = bounds(llm_impacts("openai", "gpt-4o-mini", 500, 2.0).usage.energy.value)
        haiku = bounds(llm_impacts("anthropic", "claude-haiku-4-5", 200, 1.0).usage.energy.value)
        total = body["totals"]["energy_kwh"]
        assert (total["min"], total["max"]) == pytest.approx(
            (3 * gpt[0] + haiku[0], 3 * gpt[1] + haiku[1]), rel=1e-12
        )
        assert sum(r["energy_kwh"]["min"] for r in records) == pytest.approx(total["min"])
        assert sum(r["requests"] for r in records) == 4 == body["totals"]["requests"]

    def test_team_llm_and_model_filters_narrow_the_records(self, tenant):
        seed_llm(tenant)
        client = tenant.client_for("esg_officer")
        research = tenant.teams["research"].id
        helpdesk = AiModel.objects.get(organisation=tenant.organisation, name="helpdesk").id
        assert external_ids(llm_listed(client, f"{Q1}&team={research}")) == ["r-1"]
        assert external_ids(llm_listed(client, f"{Q1}&llm=openai")) == ["s-1", "s-2"]
        assert external_ids(llm_listed(client, f"{Q1}&llm=openai/gpt-4o-mini")) == ["s-1", "s-2"]
        assert external_ids(llm_listed(client, f"{Q1}&llm=openai/gpt-4o")) == []
        assert external_ids(llm_listed(client, f"{Q1}&llm=anthropic/claude-haiku-4-5")) == ["r-1"]
        assert external_ids(llm_listed(client, f"{Q1}&model={helpdesk}")) == ["s-1"]
        assert external_ids(llm_listed(client, f"{Q1}&model=none")) == ["r-1", "s-2"]
        assert external_ids(llm_listed(client, "start=2026-02-01&end=2026-03-01")) == ["s-2"]
        # All of it is Scope 3 category 1; it has no location, energy tier or phase.
        assert len(llm_listed(client, f"{Q1}&scope=scope3_cat1")) == 3
        paris = tenant.organisation.facilities.get(code="lab-paris").id
        for absent in ("scope=scope2", "tier=measured", "phase=inference", f"location={paris}"):
            assert llm_listed(client, f"{Q1}&{absent}") == [], absent
        # The organisation's own computing calls no LLM API.
        assert listed(client, f"{Q1}&llm=openai") == []

    def test_a_locked_version_holds_the_records_stored_before_it(self, tenant):
        seed(tenant)
        seed_llm(tenant)
        officer = tenant.client_for("esg_officer")
        assert close_quarter(officer, year=2026, quarter=1).status_code == 201
        late = usage(external_id="late-1", started_at="2026-03-20T09:00:00Z",
                     ended_at="2026-03-20T10:00:00Z")  # fmt: skip
        assert post(tenant.token_client(), [late]).status_code == 201
        locked = llm_listed(officer, f"{Q1}&locked=2026-Q1-v1")
        # The LLM usage of the quarter stored before the lock: s-1, s-2, r-1; late-1 is not.
        assert sorted(external_ids(locked)) == ["r-1", "s-1", "s-2"]
        assert len(llm_listed(officer, f"{Q1}&status=all")) == 4
        assert llm_listed(tenant.client_for("engineer"), f"{Q1}&locked=2026-Q1-v1") == []

    def test_pages_follow_each_other_newest_first(self, tenant):
        seed_llm(tenant)
        principal = principal_for_membership(tenant.members["admin"])
        filters = RecordFilters(kind=LLM_KIND, start=date(2026, 1, 1), end=date(2026, 4, 1))
        seen, cursor = [], None
        for _ in range(3):
            page = record_page(principal=principal, filters=filters, before=cursor, size=1)
            seen += [r.external_id for r in page.records]
            cursor = page.next_cursor
        assert seen == ["r-1", "s-1", "s-2"]
        assert cursor is None

    def test_an_engineer_sees_only_their_teams_records(self, tenant):
        seed_llm(tenant)
        engineer = tenant.client_for("engineer")  # limited to "serving"
        assert external_ids(llm_listed(engineer, Q1)) == ["s-1", "s-2"]
        research = tenant.teams["research"].id
        body = engineer.get(f"{API}?{Q1}&team={research}").json()
        assert body["results"] == [] and body["totals"]["record_count"] == 0
        assert body["totals"]["energy_kwh"] is None  # not available, not zero

    def test_another_organisation_lists_nothing(self, tenant, outsider):
        seed_llm(tenant)
        assert llm_listed(outsider.client_for("admin"), Q1) == []

    def test_it_refuses_bad_filters_and_kinds(self, tenant):
        client = tenant.client_for("admin")
        for bad in ("llm=openai/", "llm=Open%20AI", "before=yesterday"):
            response = client.get(f"{API}?{bad}")
            assert response.status_code == 400, bad
        assert client.get("/api/v1/records/prompts/").status_code == 404
        assert client.get("/records/?kind=llm-usage&llm=openai/").status_code == 400

    def test_the_page_lists_them_with_their_ranges(self, tenant):
        seed_llm(tenant)
        html = tenant.client_for("auditor").get(f"/records/?kind=llm-usage&{Q1}").content.decode()
        assert html.count("<tr data-record=") == 3
        assert "openai/gpt-4o-mini" in html and "anthropic/claude-haiku-4-5" in html
        assert 'aria-current="page">LLM API usage records (3)' in html

    def test_without_a_kind_the_page_opens_the_kind_that_has_records(self, tenant):
        seed_llm(tenant)
        html = tenant.client_for("auditor").get(f"/records/?{Q1}").content.decode()
        assert 'aria-current="page">LLM API usage records (3)' in html


@pytest.mark.django_db
class TestLlmRecordDetail:
    def test_its_figures_are_ecologits_own_for_the_same_request(self, tenant):
        seed_llm(tenant)
        record = record_of(tenant, "s-1")  # 2 requests, 1000 output tokens, 2 s each
        body = tenant.client_for("auditor").get(f"{API}{record.id}/").json()
        # A request: 1000 tokens ÷ 2 requests = 500 tokens at 2 s; the record: × 2.
        request = repository_request("openai", "gpt-4o-mini", 500, 2.0)
        one, record_of_two = ecologits_ranges(request, 1), ecologits_ranges(request, 2)
        assert step_ranges(body["steps"], "per_request") == pytest.approx(flat(one), rel=1e-9)
        assert step_ranges(body["steps"], "value") == pytest.approx(flat(record_of_two), rel=1e-9)
        labels = ["Energy", "GWP, usage", "GWP, embodied", "Water (on- and off-site)"]
        assert [s["label"] for s in body["steps"]] == labels
        lineage = body["lineage"]
        parameters = models.find_model(provider="openai", model_name="gpt-4o-mini")
        repository = bounds(parameters.architecture.parameters)
        assert tuple(lineage["parameters"]["active_b"]) == repository
        assert lineage["parameters_source"].endswith("model repository")
        assert lineage["output_tokens_per_request"] == 500
        config = PROVIDER_CONFIG_MAP["openai"]
        assert lineage["datacentre"]["zone"] == config.datacenter_location
        mix = electricity_mixes.find_electricity_mix(zone=config.datacenter_location)
        assert lineage["datacentre"]["mix_gwp_kg_per_kwh"] == mix.gwp
        assert lineage["ecologits_version"] == lineage["installed_version"]
        assert body["scope"] == "scope3_cat1"
        assert body["inputs"]["model"] == "gpt-4o-mini"
        assert body["inputs"]["ai_model"] == "helpdesk"
        assert (body["inputs"]["output_tokens"], body["inputs"]["requests"]) == (1000, 2)
        assert body["trace_id"] is None  # sent through the REST API

    def test_the_page_shows_the_same_estimate(self, tenant):
        seed_llm(tenant)
        record = record_of(tenant, "r-1")
        html = tenant.client_for("auditor").get(f"/records/llm-usage/{record.id}/").content.decode()
        haiku = repository_request("anthropic", "claude-haiku-4-5", 200, 1.0)
        low, high = bounds(haiku.usage.energy.value)
        assert f'data-step="1">{span(Range(low, high))} kWh' in html
        assert "ecologits.ai" in html and "Scope 3 category 1" in html
        assert f'href="/records/batches/{record.batch_id}/"' in html

    def test_a_declared_model_names_the_declaration(self, tenant):
        declare_and_send(tenant, "ft:our-support-model", 24, 24, "dense 24B, per its model card",
                         output_tokens=900, requests=3, latency_s=1.5)  # fmt: skip
        llm_usage_estimate()
        record = record_of(tenant, "chat-1")
        body = tenant.client_for("admin").get(f"{API}{record.id}/").json()
        assert body["lineage"]["parameters"]["active_b"] == [24.0, 24.0]
        assert "per its model card" in body["lineage"]["parameters_source"]
        # 900 tokens ÷ 3 requests = 300 a request at 1.5 s, 24 B dense, on Mistral AI's mix.
        request = ecologits_request("mistralai", 24, 24, 300, 1.5)
        expected = ecologits_ranges(request, 3)
        assert step_ranges(body["steps"], "value") == pytest.approx(flat(expected), rel=1e-9)

    def test_a_waiting_record_of_a_declared_model_names_the_declaration(self, tenant):
        declare_and_send(tenant, "ft:waiting-model", 8, 46, "8 of 46 B active, per its paper")
        record = record_of(tenant, "chat-1")  # no worker ran: pending
        lineage = tenant.client_for("admin").get(f"{API}{record.id}/").json()["lineage"]
        assert lineage["parameters"] == {
            "architecture": "moe",
            "active_b": [8.0, 8.0],
            "total_b": [46.0, 46.0],
            "warnings": [],
        }
        assert lineage["parameters_source"].endswith("per its paper")

    def test_a_record_from_otlp_names_its_trace_and_span(self, tenant):
        body = json.dumps(OTLP_JSON).encode()
        response = post_otlp(bearer_client(token_key(tenant)), body, "application/json")
        assert response.status_code == 200
        record = LlmUsageRecord.objects.get(organisation=tenant.organisation)
        detail = tenant.client_for("admin").get(f"{API}{record.id}/").json()
        assert detail["trace_id"] == "5b8efff798038103d269b633813fc60c"
        assert detail["span_id"] == "eee19b7ec3c1b174"
        assert detail["record"]["status"] == "pending"  # no worker ran: no figures yet
        assert detail["steps"][0]["value"] is None

    def test_another_teams_or_organisations_record_is_404(self, tenant, outsider):
        seed_llm(tenant)
        research = record_of(tenant, "r-1")
        engineer = tenant.client_for("engineer")
        assert engineer.get(f"{API}{research.id}/").status_code == 404
        assert engineer.get(f"/records/llm-usage/{research.id}/").status_code == 404
        serving = record_of(tenant, "s-1")
        assert engineer.get(f"{API}{serving.id}/").status_code == 200
        other = outsider.client_for("admin")
        assert other.get(f"{API}{serving.id}/").status_code == 404
        assert other.get(f"/records/llm-usage/{serving.id}/").status_code == 404

    def test_a_bad_kind_or_id_is_404(self, tenant):
        seed_llm(tenant)
        record = record_of(tenant, "s-1")
        client = tenant.client_for("admin")
        assert client.get(f"/api/v1/records/prompts/{record.id}/").status_code == 404
        assert client.get(f"{API}{record.id + 1000}/").status_code == 404
        assert client.get(f"/records/llm-usage/{record.id + 1000}/").status_code == 404


@pytest.mark.django_db
class TestLlmBatchAndCsv:
    def test_a_batch_counts_its_llm_usage_records(self, tenant):
        seed_llm(tenant)
        batch = IngestBatch.objects.get(organisation=tenant.organisation)
        body = tenant.client_for("auditor").get(f"/api/v1/records/batches/{batch.id}/").json()
        assert body["visible_records"] == {"workloads": 0, "cloud-usage": 0, "llm-usage": 3}
        engineer = tenant.client_for("engineer")
        assert (
            engineer.get(f"/api/v1/records/batches/{batch.id}/").json()["visible_records"][
                "llm-usage"
            ]
            == 2
        )
        html = tenant.client_for("auditor").get(f"/records/batches/{batch.id}/").content.decode()
        assert html.count("<tr data-record=") == 3

    def test_the_csv_rows_are_the_lists(self, tenant):
        seed_llm(tenant)
        client = tenant.client_for("auditor")
        query = f"kind=llm-usage&{Q1}&llm=openai"
        response = client.get(f"/records/csv/?{query}")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        records = llm_listed(client, f"{Q1}&llm=openai")
        assert [int(r["id"]) for r in rows] == [r["id"] for r in records]
        assert [float(r["energy_kwh_max"]) for r in rows] == [
            r["energy_kwh"]["max"] for r in records
        ]
        assert {r["kind"] for r in rows} == {"llm-usage"}
        assert [r["llm"] for r in rows] == ["gpt-4o-mini", "gpt-4o-mini"]
        assert [int(r["requests"]) for r in rows] == [2, 1]

    def test_an_engineers_csv_holds_only_their_teams(self, tenant):
        seed_llm(tenant)
        response = tenant.client_for("engineer").get(f"/records/csv/?kind=llm-usage&{Q1}")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert {r["team"] for r in rows} == {"Serving"}


@pytest.mark.django_db
class TestLlmDrillDown:
    def test_the_overview_llm_lines_open_the_records_that_sum_to_them(self, tenant):
        seed_llm(tenant)
        client = tenant.client_for("auditor")
        page = client.get(f"/?{Q1}").content.decode()
        llms = record_links(page, "llm-llms")
        assert llms["openai/gpt-4o-mini"] == (
            f"kind=llm-usage&{Q1}&status=all&llm=openai%2Fgpt-4o-mini"
        )
        records = llm_listed(client, llms["openai/gpt-4o-mini"])
        # s-1 (2 requests) + s-2 (1 request): 3 × EcoLogits' gpt-4o-mini range.
        low, high = bounds(llm_impacts("openai", "gpt-4o-mini", 500, 2.0).usage.energy.value)
        assert sum(r["energy_kwh"]["min"] for r in records) == pytest.approx(3 * low)
        assert sum(r["energy_kwh"]["max"] for r in records) == pytest.approx(3 * high)
        teams = record_links(page, "llm-teams")
        research = tenant.teams["research"].id
        assert external_ids(llm_listed(client, teams["Research"])) == ["r-1"]
        assert f"team={research}" in teams["Research"]

    def test_the_team_pages_lines_carry_the_team(self, tenant):
        seed_llm(tenant)
        client = tenant.client_for("admin")
        page = client.get(f"/teams/serving/?{Q1}").content.decode()
        line = record_links(page, "llm-llms")["openai/gpt-4o-mini"]
        assert f"team={tenant.teams['serving'].id}" in line
        assert external_ids(llm_listed(client, line)) == ["s-1", "s-2"]
        assert 'id="llm-records"' in page
