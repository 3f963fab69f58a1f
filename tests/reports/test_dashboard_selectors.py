"""Records waiting and records failed, as the overview and the data page count them; the
hardware of the team and model pages."""

from dataclasses import replace
from datetime import date

import pytest
from rest_framework.test import APIClient

from accounts.principal import principal_for_membership
from accounts.services import member_update, team_create
from inventory.models import (
    BatchComputation,
    IngestBatch,
    RecalculationJob,
    RecalculationStatus,
    WorkloadRecord,
)
from inventory.pipeline.compute import batch_compute, batches_waiting, records_compute
from inventory.pipeline.rollups import monthly_rollups_refresh
from reports.dashboard_selectors import Filters, hardware_used, records_failed, records_waiting
from tests.inventory.test_codecarbon_ingest import emissions_data, post_output, token_key
from tests.inventory.test_pipeline import stored_batch, stored_cloud_usage, stored_workload
from tests.reports.test_footprint_api import seed


def principal(tenant, role="admin"):
    return principal_for_membership(tenant.members[role])


@pytest.mark.django_db
class TestRecordsWaiting:
    def test_it_counts_the_records_of_batches_not_computed_yet(self, tenant, outsider):
        batch = stored_batch(tenant)
        stored_workload(tenant, batch, avg_power_w=100.0)
        stored_workload(tenant, batch, avg_power_w=100.0, team=tenant.teams["serving"])
        stored_cloud_usage(tenant, batch)
        assert records_waiting(principal=principal(tenant))["count"] == 3
        # An engineer of the serving team counts only that team's records; others see none.
        assert records_waiting(principal=principal(tenant, "engineer"))["count"] == 1
        assert records_waiting(principal=principal(outsider))["count"] == 0

        batch_compute(batch_id=batch.id)
        assert records_waiting(principal=principal(tenant)) == {"count": 0, "oldest": None}

    def test_a_codecarbon_run_that_posts_again_is_waiting_and_on_the_sweeps_queue(self, tenant):
        client = APIClient()  # CodeCarbon sends no credentials but the key in the URL
        key = token_key(tenant, team="research")
        assert post_output(client, key, emissions_data()).status_code == 201
        batch = IngestBatch.objects.get(organisation=tenant.organisation, source="codecarbon")
        batch_compute(batch_id=batch.id)
        assert records_waiting(principal=principal(tenant))["count"] == 0

        later = emissions_data(
            timestamp="2026-01-10T13:00:00", duration=7200.0, energy_consumed=2.4, emissions=0.1
        )
        assert post_output(client, key, later).status_code == 201
        assert not BatchComputation.objects.filter(batch=batch).exists()
        assert batch.id in batches_waiting()
        waiting = records_waiting(principal=principal(tenant))
        assert waiting["count"] == 1 and waiting["oldest"] is not None

    def test_it_counts_the_records_a_running_recalculation_took(self, tenant):
        stored_workload(tenant, avg_power_w=100.0)
        stored_workload(tenant, avg_power_w=100.0, day=date(2026, 2, 3))
        records_compute()
        for batch in IngestBatch.objects.all():
            BatchComputation.objects.get_or_create(batch=batch)
        assert records_waiting(principal=principal(tenant))["count"] == 0

        # What a running job does to the records of its windows (inventory.pipeline.recalculation).
        job = RecalculationJob.objects.create(
            organisation=tenant.organisation,
            trigger="override",
            description="FR override",
            status=RecalculationStatus.RUNNING,
        )
        WorkloadRecord.objects.filter(activity_date__month=2).update(
            status="pending", recalculation_job=job
        )
        assert records_waiting(principal=principal(tenant))["count"] == 1


@pytest.mark.django_db
class TestRecordsFailed:
    def test_it_lists_failed_records_with_their_reason_for_the_callers_teams(
        self, tenant, outsider
    ):
        batch = stored_batch(tenant)
        stored_workload(tenant, batch, external_id="absurd", energy_kwh=1e308)
        stored_workload(
            tenant,
            batch,
            external_id="absurd-serving",
            energy_kwh=1e308,
            team=tenant.teams["serving"],
            day=date(2026, 1, 12),
        )
        stored_workload(tenant, batch, external_id="fine", avg_power_w=100.0)
        stored_cloud_usage(tenant, batch, external_id="absurd-usage", quantity=1e308)
        records_compute()

        failed = records_failed(principal=principal(tenant))
        assert failed["count"] == 3
        # Latest day first: the serving record is of 12 January, the others of 10 January.
        assert failed["lines"][0]["external_id"] == "absurd-serving"
        assert {line["external_id"] for line in failed["lines"]} == {
            "absurd-serving",
            "absurd",
            "absurd-usage",
        }
        assert {line["kind"] for line in failed["lines"]} == {"workload", "cloud usage"}
        assert all("above 1e12" in line["compute_error"] for line in failed["lines"])

        engineer = records_failed(principal=principal(tenant, "engineer"))
        assert engineer["count"] == 1
        assert engineer["lines"][0]["external_id"] == "absurd-serving"
        assert engineer["lines"][0]["team__name"] == "Serving"
        assert records_failed(principal=principal(outsider)) == {"count": 0, "lines": []}

    def test_the_list_is_bounded_but_the_count_is_not(self, tenant):
        batch = stored_batch(tenant)
        for n in range(5):
            stored_workload(tenant, batch, external_id=f"absurd-{n}", energy_kwh=1e308)
        records_compute()
        failed = records_failed(principal=principal(tenant), limit=2)
        assert failed["count"] == 5 and len(failed["lines"]) == 2


def rollups_of(tenant, count: int) -> None:
    """`count` rollup rows over three months, two teams, a model or none, every phase and
    tier, both scopes, some not allocated market-based yet (market_kg None)."""
    from inventory.models import AiModel, DailyRollup, EmissionScope, EnergyTier, Location, Phase

    model = AiModel.objects.create(organisation=tenant.organisation, name="atlas-7b")
    location = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
    phases, tiers = list(Phase.values), list(EnergyTier.values)
    DailyRollup.objects.bulk_create(
        DailyRollup(
            organisation=tenant.organisation,
            day=date(2026, 1 + n % 3, 1 + n % 28),
            team=tenant.teams["research" if n % 2 else "serving"],
            ai_model=model if n % 3 else None,
            location=location,
            phase=phases[n % len(phases)],
            energy_tier=tiers[n % len(tiers)],
            scope=EmissionScope.SCOPE2 if n % 4 else EmissionScope.SCOPE3_CAT1,
            record_count=n + 1,
            it_kwh=1.5 * n,
            facility_kwh=1.8 * n,
            location_kg=0.1 * n,
            market_kg=None if n % 5 == 0 else 0.05 * n,
            inferences=1000 * n,
            tokens=4000 * n,
        )
        for n in range(count)
    )
    monthly_rollups_refresh(organisation_id=tenant.organisation.id)


def _sorted(rowsets):
    return [
        (fields, sorted((tuple(sorted(row.items(), key=str)) for row in rows), key=str))
        for fields, rows in rowsets
    ]


@pytest.mark.django_db
def test_one_scan_of_grouping_sets_sums_as_one_scan_per_grouping(tenant, outsider):
    from django.db import connection

    from reports.dashboard import MODEL_GROUPINGS, TEAM_GROUPINGS
    from reports.dashboard_selectors import (
        OVERVIEW_GROUPINGS,
        Filters,
        _grouped_each,
        _grouped_in_one_scan,
    )

    if connection.vendor != "postgresql":
        pytest.skip("GROUPING SETS: the Postgres path (CI runs it)")
    rollups_of(tenant, 120)
    rollups_of(outsider, 50)
    filters = Filters(start=date(2026, 1, 1), end=date(2026, 3, 1))  # two of the three months
    for who in ("admin", "engineer"):
        rows = filters.rollup_sources(principal(tenant, who))
        # The same fields in another order are one grouping set: each gets its rows.
        reordered = (("month", "phase"), ("phase", "month"), ("ai_model_id",))
        for groupings in (OVERVIEW_GROUPINGS, TEAM_GROUPINGS, MODEL_GROUPINGS, reordered):
            groupings = [tuple(g) for g in groupings]
            once = _sorted(_grouped_in_one_scan(rows, groupings))
            each = _sorted(_grouped_each(rows, groupings))
            assert [fields for fields, _ in once] == [fields for fields, _ in each]
            for (_, a), (_, b) in zip(once, each, strict=True):
                assert len(a) == len(b)
                for row_a, row_b in zip(a, b, strict=True):
                    assert dict(row_a) == pytest.approx(dict(row_b))
    # Real figures: January and February rows of the tenant only (n % 3 in 0, 1).
    by_month = dict(
        _grouped_in_one_scan(filters.rollup_sources(principal(tenant)), [("month",), ("phase",)])
    )[("month",)]
    counted = sum(row["record_count"] for row in by_month)
    assert counted == sum(n + 1 for n in range(120) if n % 3 in (0, 1))
    assert {row["month"] for row in by_month} == {date(2026, 1, 1), date(2026, 2, 1)}


@pytest.mark.django_db
def test_the_quarter_comparison_reads_the_periods_cube_as_its_own_scan_does(tenant, outsider):
    from inventory.models import EmissionScope
    from reports.dashboard import quarter_comparison
    from reports.dashboard_selectors import Filters, rollup_cube
    from tests.reports.scope2_data import rollup

    rollup(tenant, date(2025, 10, 3), 100.0)  # Q4 2025, covered from its first month
    rollup(tenant, date(2026, 2, 9), 150.0)  # Q1 2026, the last complete quarter
    rollup(tenant, date(2026, 4, 20), 999.0)  # Q2 2026, not complete on 1 May
    rollup(tenant, date(2026, 2, 9), 500.0, EmissionScope.SCOPE3_CAT1)  # cloud: not Scope 2
    rollup(outsider, date(2026, 2, 9), 700.0)
    filters = Filters(start=date(2025, 5, 1), end=date(2026, 5, 1))
    who = principal(tenant)
    cube = rollup_cube(principal=who, filters=filters)
    today = date(2026, 5, 1)
    from_cube = quarter_comparison(who, filters, cube, today)
    own_scan = quarter_comparison(who, filters, today=today)
    assert from_cube == own_scan
    assert from_cube["label"] == "Scope 2, 2026 Q1 vs 2025 Q4"
    assert from_cube["note"] == ""
    # 150 kWh against 100 kWh: +50 %, location- (15 vs 10 kg) and market-based (7.5 vs 5).
    assert from_cube["location"] == pytest.approx(50.0)
    assert from_cube["market"] == pytest.approx(50.0)
    # A period that starts inside the quarter before reads both quarters on its own.
    short = Filters(start=date(2026, 1, 1), end=date(2026, 5, 1))
    cube = rollup_cube(principal=who, filters=short)
    assert quarter_comparison(who, short, cube, today)["location"] == pytest.approx(50.0)


@pytest.mark.django_db
def test_the_cost_card_reads_the_cube_as_its_own_scan_does(tenant, outsider):
    from reports.cost_sci_selectors import cost_lines
    from reports.dashboard import MODEL_GROUPINGS, TEAM_GROUPINGS
    from reports.dashboard_selectors import (
        OVERVIEW_GROUPINGS,
        Cube,
        Filters,
        _grouped_each,
        rollup_cube,
    )
    from tests.reports.scope2_data import rollup

    def row(who, day, kg, inferences, cost=None, currency=""):
        rollup(
            who,
            day,
            kg * 10,  # location kg = kWh / 10
            inferences=inferences,
            tokens=4 * inferences,
            energy_cost=cost,
            energy_cost_currency=currency,
        )

    row(tenant, date(2026, 1, 5), 2.0, 1000, 10.0, "EUR")
    row(tenant, date(2026, 2, 5), 1.0, 500, 5.5, "EUR")
    row(tenant, date(2026, 2, 6), 3.0, 0, 7.0, "USD")
    row(tenant, date(2026, 2, 7), 100.0, 9000)  # no tariff: no cost, in no currency's line
    row(tenant, date(2026, 4, 1), 1.0, 1, 50.0, "EUR")  # after the period
    row(outsider, date(2026, 1, 5), 1.0, 1, 99.0, "EUR")
    filters = Filters(start=date(2026, 1, 1), end=date(2026, 4, 1))
    who = principal(tenant)
    own_scan = cost_lines(rows=filters.rollups(who))
    for groupings in (OVERVIEW_GROUPINGS, TEAM_GROUPINGS, MODEL_GROUPINGS):
        cube = rollup_cube(principal=who, filters=filters, groupings=groupings)
        each = Cube(_grouped_each(filters.rollup_sources(who), [tuple(g) for g in groupings]))
        assert cube.cost_lines() == own_scan
        assert each.cost_lines() == own_scan
    eur, usd = own_scan
    # EUR: 10 + 5.5 over 1,000 + 500 inferences and 2 + 1 kg; USD: 7 over 3 kg.
    assert (eur.currency, eur.cost, eur.location_kg, eur.inferences) == ("EUR", 15.5, 3.0, 1500)
    assert eur.tokens == 6000
    assert eur.cost_per_1k_inferences == pytest.approx(15.5 / 1.5)
    assert eur.kg_per_currency_unit == pytest.approx(3.0 / 15.5)
    assert (usd.currency, usd.cost, usd.location_kg, usd.inferences) == ("USD", 7.0, 3.0, 0)
    assert usd.cost_per_1k_inferences is None


@pytest.mark.django_db
def test_the_model_pages_sci_reads_the_cube_as_its_own_scan_does(tenant, outsider):
    from dataclasses import asdict

    from inventory.models import AiModel
    from reports.cost_sci_selectors import model_sci, sci_of_phases
    from reports.dashboard import MODEL_GROUPINGS
    from reports.dashboard_selectors import Filters, rollup_cube

    rollups_of(tenant, 120)
    rollups_of(outsider, 50)
    model = AiModel.objects.get(organisation=tenant.organisation, name="atlas-7b")
    filters = Filters(start=date(2026, 1, 1), end=date(2026, 4, 1), model_id=model.id)
    for who in ("admin", "engineer"):
        cube = rollup_cube(
            principal=principal(tenant, who), filters=filters, groupings=MODEL_GROUPINGS
        )
        own_scan = model_sci(
            principal=principal(tenant, who), model=model, start=filters.start, end=filters.end
        )
        from_cube = sci_of_phases(cube.by("phase"))
        assert [score.unit for score in from_cube] == [score.unit for score in own_scan]
        for a, b in zip(from_cube, own_scan, strict=True):
            assert asdict(a) == pytest.approx(asdict(b))
    inferences, tokens, runs = model_sci(
        principal=principal(tenant), model=model, start=filters.start, end=filters.end
    )
    # The model's rows are n % 3 != 0; phases cycle training, fine-tuning, inference, other.
    inference = [n for n in range(120) if n % 3 and n % 4 == 2]
    trained = [n for n in range(120) if n % 3 and n % 4 in (0, 1)]
    assert inferences.energy_kwh == pytest.approx(sum(1.8 * n for n in inference))
    assert inferences.functional_units == pytest.approx(sum(1000 * n for n in inference) / 1000)
    assert tokens.functional_units == pytest.approx(sum(4000 * n for n in inference) / 1e6)
    assert runs.functional_units == sum(n + 1 for n in trained)
    assert runs.operational_kg == pytest.approx(sum(0.1 * n for n in trained))
    assert runs.embodied_kg is None and runs.kg_per_unit is None  # no embodied figure


@pytest.mark.django_db
def test_a_cube_of_partial_months_reads_whole_months_monthly_and_sums_as_the_days(tenant, outsider):
    from django.db import connection
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext

    from inventory.models import DailyRollup
    from reports.dashboard import MODEL_GROUPINGS, TEAM_GROUPINGS
    from reports.dashboard_selectors import (
        OVERVIEW_GROUPINGS,
        Filters,
        _grouped_each,
        _grouped_in_one_scan,
        rollup_cube,
    )

    rollups_of(tenant, 120)
    rollups_of(outsider, 50)
    # Rows each reader sums apart (besides market kg not allocated): costed, water complete.
    mine = DailyRollup.objects.filter(organisation=tenant.organisation)
    mine.filter(record_count__lt=40).update(energy_cost=2.0, energy_cost_currency="EUR")
    mine.filter(record_count__gt=80).update(
        water_onsite_l=F("record_count") * 3.0, water_record_count=F("record_count")
    )
    monthly_rollups_refresh(organisation_id=tenant.organisation.id)
    # 10 January – 20 March: the days of January and March from the daily rows, February whole.
    filters = Filters(start=date(2026, 1, 10), end=date(2026, 3, 21))
    for who in ("admin", "engineer"):
        days_only = [filters.rollups(principal(tenant, who))]
        sources = filters.rollup_sources(principal(tenant, who))
        assert len(sources) == 3
        for groupings in (OVERVIEW_GROUPINGS, TEAM_GROUPINGS, MODEL_GROUPINGS, [("phase",)]):
            groupings = [tuple(g) for g in groupings]
            from_days = _keyed(_grouped_each(days_only, groupings))
            assert _keyed(_grouped_each(sources, groupings)) == _approx(from_days)
            if connection.vendor == "postgresql":
                assert _keyed(_grouped_in_one_scan(sources, groupings)) == _approx(from_days)
    with CaptureQueriesContext(connection) as queries:
        cube = rollup_cube(principal=principal(tenant), filters=filters)
    assert any("inventory_monthlyrollup" in query["sql"] for query in queries)
    # Rows n of day 1 + n % 28 of month 1 + n % 3: January from the 10th (n % 28 >= 9), all
    # of February, March to the 20th (n % 28 <= 19); n + 1 records each, the tenant's only.
    in_period = [
        n
        for n in range(120)
        if (n % 3, n % 28 >= 9) == (0, True) or n % 3 == 1 or (n % 3 == 2 and n % 28 <= 19)
    ]
    assert cube.total().record_count == sum(n + 1 for n in in_period)
    # The engineer of the serving team: its rows are those of even n.
    engineer = rollup_cube(principal=principal(tenant, "engineer"), filters=filters)
    assert engineer.total().record_count == sum(n + 1 for n in in_period if n % 2 == 0)


def _keyed(rowsets) -> dict:
    """{fields: {their values: row}} of a cube's rowsets."""
    return {
        fields: {tuple(row[f] for f in fields): row for row in rows} for fields, rows in rowsets
    }


def _approx(keyed: dict) -> dict:
    """The same, its float sums compared to the floating point summation order."""
    return {
        fields: {
            key: {k: pytest.approx(v) if isinstance(v, float) else v for k, v in row.items()}
            for key, row in rows.items()
        }
        for fields, rows in keyed.items()
    }


@pytest.mark.django_db
class TestHardwareUsed:
    def test_it_sums_the_visible_records_of_a_team_by_hardware(self, tenant, outsider):
        seed(tenant)
        q1 = Filters(start=date(2026, 1, 1), end=date(2026, 4, 1))
        research = replace(q1, team_id=tenant.teams["research"].id)

        def lines(filters, role="admin", of=tenant):
            return [
                (line["code"], line["records"], round(line["it_kwh"], 6), line["share"])
                for line in hardware_used(principal=principal(of, role), filters=filters)
            ]

        # seed(): 6 records of 8 H100s × 500 W × 10 h = 40 kWh IT; 4 research, 2 serving.
        assert lines(research) == [("nvidia-h100-sxm", 4, 160.0, 1.0)]  # 4 × 40 kWh
        assert lines(q1) == [("nvidia-h100-sxm", 6, 240.0, 1.0)]
        # The engineer sees serving's 2 records, and nothing of research even when asked.
        assert lines(q1, "engineer") == [("nvidia-h100-sxm", 2, 80.0, 1.0)]
        assert lines(research, "engineer") == []
        assert lines(research, of=outsider) == []
        # An engineer whose only team was deleted sees nothing, not every team.
        platform = team_create(organisation=tenant.organisation, name="Platform")
        member_update(membership=tenant.members["engineer"], role="engineer", teams=[platform])
        platform.delete()
        assert lines(q1, "engineer") == []
