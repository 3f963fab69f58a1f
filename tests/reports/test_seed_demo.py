from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Membership
from greenai_portal.periods import quarter_of
from inventory.models import ContractualInstrument, DailyRollup, MarketAllocation, WorkloadRecord


@pytest.mark.django_db
def test_the_demo_seed_computes_a_quarter_and_seeding_again_adds_nothing(factors, capsys):
    # The one seed from an empty database in this suite, as `make run` does it; the other
    # tests read the session's copy of the demo (the `demo` fixture).
    from inventory.models import CustomLlm, IngestBatch, LlmUsageRecord
    from reports.management.commands.seed_demo import quarters_to_close
    from reports.models import QuarterClose

    call_command("seed_demo")
    capsys.readouterr()
    first = WorkloadRecord.objects.count()
    assert first >= 270  # 2 serving sites a day, 2 fine-tunes every other day, weekly pre-training
    assert set(Membership.objects.values_list("role", flat=True)) == {
        "admin",
        "esg_officer",
        "engineer",
        "auditor",
    }
    # Eager Celery computes on commit, which a test transaction never reaches: compute here.
    from inventory.pipeline import workload_records_compute

    workload_records_compute()
    assert not WorkloadRecord.objects.exclude(status="computed").exists()
    assert set(WorkloadRecord.objects.values_list("energy_tier", flat=True)) == {
        "measured",
        "metered",
        "modelled",
    }
    total = DailyRollup.objects.aggregate(kg=Sum("location_kg"))["kg"]
    assert total > 1000  # a quarter of a 64-GPU pre-training programme is tonnes, not grams

    instruments = ContractualInstrument.objects.count()
    llm_usage = LlmUsageRecord.objects.count()
    traced = LlmUsageRecord.objects.filter(batch__source=IngestBatch.Source.OTLP)
    traced_count = traced.count()
    metered = WorkloadRecord.objects.filter(batch__source=IngestBatch.Source.PROMETHEUS)
    call_command("seed_demo")
    again = capsys.readouterr().out
    assert WorkloadRecord.objects.count() == first
    assert f"{first - metered.count()} already there" in again
    assert ContractualInstrument.objects.count() == instruments
    assert "0 contractual instruments added" in again
    assert LlmUsageRecord.objects.count() == llm_usage
    assert CustomLlm.objects.count() == 1
    assert "0 facility WUE rows added" in again
    assert metered.count() == 72  # the same day of meter readings re-sent: duplicates
    assert traced.count() == traced_count
    assert f"{traced_count} already there" in again
    today = timezone.now().date()
    assert QuarterClose.objects.count() == len(quarters_to_close(today))
    year, quarter = quarters_to_close(today)[-1]
    assert f"{year} Q{quarter} already closed" in again


def test_the_demo_buys_instruments_so_market_based_figures_and_renewables_show(demo):
    instruments = ContractualInstrument.objects.order_by("zone", "valid_from")
    quarters = {quarter_of(i.valid_from) for i in instruments}
    # A guarantee of origin (FR, 30 MWh) and a wind PPA (DE, 1.5 MWh) per calendar quarter
    # seeded, each valid for its quarter.
    assert [(i.zone, i.mwh, i.kg_per_kwh) for i in instruments] == [
        *[("DE", 1.5, 0.0)] * len(quarters),
        *[("FR", 30.0, 0.0)] * len(quarters),
    ]
    assert {quarter_of(i.valid_to) for i in instruments} == quarters
    assert AuditEvent.objects.filter(action="instrument.create").count() == len(instruments)
    assert {e.actor_label for e in AuditEvent.objects.filter(action="instrument.create")} == {"esg"}
    for zone in ("FR", "DE"):
        used = MarketAllocation.objects.filter(zone=zone)
        # Every kWh of the market is allocated once: instruments first, the residual mix after.
        consumed = WorkloadRecord.objects.filter(location__zone=zone).aggregate(
            kwh=Sum("facility_kwh")
        )["kwh"]
        assert used.aggregate(kwh=Sum("kwh"))["kwh"] == pytest.approx(consumed)
        covered = used.filter(instrument__isnull=False).aggregate(kwh=Sum("kwh"))["kwh"]
        contracted = sum(i.mwh * 1000 for i in instruments if i.zone == zone)
        assert 0 < covered <= contracted + 1e-6
        assert used.filter(instrument__isnull=True).exists()  # more consumed than bought


def test_the_demo_report_shows_its_instruments_and_renewable_share(demo):
    year, quarter = quarter_of(date.today() - timedelta(days=1))
    client = Client()
    client.force_login(get_user_model().objects.get(username="esg"))
    body = client.get(f"/api/v1/reports/scope2/?year={year}&quarter={quarter}").json()
    market = body["market"]
    assert market["renewable_share"] > 0
    assert body["scope2"]["market_t"] < body["scope2"]["location_t"]
    html = client.get(f"/reports/{year}/Q{quarter}/").content.decode()
    assert f"GO-FR-{year}Q{quarter}-DEMO" in html and "renewable" in html


def test_the_demo_has_a_year_of_hourly_llm_usage_estimated_by_ecologits(demo):
    from inventory.llm.estimation import llm_usage_estimate
    from inventory.models import CustomLlm, LlmUsageRecord

    records = LlmUsageRecord.objects.all()
    # the chatbot every hour of 365 days, triage on weekday daytimes, evaluations 2 h a night
    assert records.filter(application="support-chatbot").count() == 365 * 24
    assert records.filter(application="eval-harness").count() == 365 * 2
    assert set(records.values_list("provider", "model").distinct()) == {
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-haiku-4-5"),
        ("mistralai", "open-mistral-nemo-2407"),
    }
    declared = CustomLlm.objects.get()
    assert (declared.active_parameters_b, declared.total_parameters_b) == (12, 12)
    assert AuditEvent.objects.filter(action="custom_llm.create").count() == 1
    llm_usage_estimate()
    assert not records.exclude(status="computed").exists()
    assert records.filter(custom_llm=declared).count() == 365 * 2


def test_the_demo_shows_water_from_its_facility_wue_and_the_cloud_regions(demo):
    paris = WorkloadRecord.objects.filter(location__code="paris-dc1").first()
    # The demo's Paris WUE of 0.3 L per IT kWh.
    assert paris.water_onsite_l == pytest.approx(paris.it_kwh * 0.3)
    assert paris.water_tier == "facility"
    aws = WorkloadRecord.objects.filter(location__code="aws:us-east-1").first()
    assert aws.water_onsite_l == pytest.approx(aws.it_kwh * 0.12)  # AWS us-east-1, 2024
    assert aws.water_tier == "provider"
    # Google publishes no WUE per region: not available, never 0.
    gcp = WorkloadRecord.objects.filter(location__code="gcp:europe-west4").first()
    assert (gcp.water_onsite_l, gcp.water_tier) == (None, "")
    assert AuditEvent.objects.filter(action="facility_wue.create").count() == 2


def test_the_demo_shows_energy_cost_embodied_emissions_and_sci(demo):
    from inventory.models import AiModel, CloudUsageRecord

    serving = WorkloadRecord.objects.filter(external_id__startswith="serve-paris-dc1-")
    assert serving.exists()
    for record in serving[:5]:
        # measured energy × PUE 1.25 × the demo tariff 0.18 EUR/kWh
        assert record.energy_cost == pytest.approx(record.energy_kwh * 1.25 * 0.18)
        assert record.energy_cost_currency == "EUR"
        # 876.5 kg / 26280 h × 8 GPUs × 24 h
        assert record.embodied_kg == pytest.approx(876.5 / 26280 * 8 * 24)
    billed = CloudUsageRecord.objects.filter(external_id__startswith="aws-batch-")
    assert not billed.exclude(status="computed").exists()
    assert {r.energy_cost_currency for r in billed} == {"USD"}
    currencies = set(
        DailyRollup.objects.exclude(energy_cost=None).values_list("energy_cost_currency", flat=True)
    )
    assert currencies == {"EUR", "USD"}
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    model = AiModel.objects.get(name="atlas-7b-chat")
    start, end = date.today() - timedelta(days=91), date.today() + timedelta(days=1)
    page = client.get(f"/models/{model.id}/", {"start": start, "end": end})
    assert page.status_code == 200
    assert b'data-sci="1k_inferences"' in page.content
    assert b'data-cost="EUR"' in page.content and b'data-cost="USD"' in page.content


def test_the_demo_shows_a_gpu_meter_with_its_rules_and_a_day_of_readings(demo):
    from inventory.meters.prometheus import range_query
    from inventory.models import IngestBatch, PrometheusSource, TeamMappingRule

    (source,) = PrometheusSource.objects.all()
    # paused, at an address that cannot resolve: seeding and the beat never reach a server
    assert (source.enabled, source.url) == (False, "http://prometheus.paris-dc1.example:9090")
    rules = TeamMappingRule.objects.filter(source="prometheus").order_by("value")
    assert [(r.value, r.team.slug, r.model_name) for r in rules] == [
        ("llm-serving", "platform", "atlas-7b-chat"),
        ("research", "research", "atlas-7b"),
    ]
    metered = WorkloadRecord.objects.filter(batch__source=IngestBatch.Source.PROMETHEUS)
    # 3 GPUs (2 serving, 1 evaluating) × 24 complete hours, each a measured record of its series
    assert metered.count() == 72
    assert source.pulled_until == metered.order_by("-ended_at").first().ended_at
    assert {r.tags["metric"] for r in metered} == {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"}
    assert {r.hardware.code for r in metered} == {"nvidia-h100-sxm"}
    # an evaluation GPU at 610–640 W ± 15 W draws 0.595–0.655 kWh an hour
    research = metered.filter(team__slug="research")
    assert all(0.595 <= r.energy_kwh <= 0.655 for r in research)
    assert "72 GPU-hours from its Prometheus meter" in demo.output
    with pytest.raises(Exception, match="did not answer"):  # the address is not a server
        range_query(url=source.url, token="", query="up", start=source.pulled_until,
                    end=source.pulled_until, step_s=3600)  # fmt: skip
