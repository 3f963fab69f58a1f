"""Hourly GPU energy pulled from a real Prometheus: DCGM (mJ) and Kepler (J) counters."""

from datetime import UTC, datetime, timedelta

import pytest

from greenai_portal.errors import ApplicationError
from inventory.meters.services import prometheus_source_pull, pull_window
from inventory.models import (
    IngestBatch,
    Location,
    MappingSource,
    PrometheusSource,
    TeamMappingRule,
    WorkloadRecord,
)
from inventory.pipeline import records_compute
from inventory.tasks import pull_prometheus_source, pull_prometheus_sources
from tests.inventory.meters.prometheus_server import free_port, needs_prometheus, prometheus_server

HOUR = timedelta(hours=1)
# The last hour that has ended when the tests start; the backfill covers the three before it.
H = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
T0 = H - 3 * HOUR
KEPLER_RESET = H - 2 * HOUR + timedelta(minutes=30)
STEP_S = 30


def _dcgm(namespace: str, gpu: str, t: int) -> str:
    # 500 000 mJ/s: 1.8e9 mJ an hour, counted from 1e9 mJ at T0 (energy since boot)
    value = 1e9 + 500_000 * (t - T0.timestamp())
    return (
        f'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{gpu="{gpu}",namespace="{namespace}",'
        f'pod="{namespace}-1",modelName="NVIDIA A100-SXM4-80GB"}} {value} {t}'
    )


def _kepler(t: int) -> str:
    # 250 J/s; the node restarts just before KEPLER_RESET and its counter starts again from
    # zero (30 s of energy in its first sample)
    reset = KEPLER_RESET.timestamp()
    value = 250 * (t - T0.timestamp()) if t < reset else 250 * (t - reset + STEP_S)
    return (
        'kepler_container_joules_total{container_namespace="serving",pod_name="api-1",'
        f'container_name="api",mode="dynamic"}} {value} {t}'
    )


def _openmetrics() -> str:
    times = range(int(T0.timestamp()), int(H.timestamp()) + 1, STEP_S)
    lines = [_dcgm("research", "0", t) for t in times]
    lines += [_dcgm("scratch", "2", t) for t in times]
    lines += [_kepler(t) for t in times]
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory):
    needs_prometheus()
    with prometheus_server(tmp_path_factory.mktemp("prometheus"), _openmetrics()) as url:
        yield url


def _rule(tenant, key: str, value: str, team: str, **fields) -> TeamMappingRule:
    return TeamMappingRule.objects.create(
        organisation=tenant.organisation,
        source=MappingSource.PROMETHEUS,
        key=key,
        value=value,
        team=tenant.teams[team],
        **fields,
    )


@pytest.fixture
def source(tenant, outsider, prometheus_url) -> PrometheusSource:
    _rule(
        tenant, "label:namespace", "research", "research", model_name="atlas-7b", phase="training"
    )
    _rule(tenant, "label:container_namespace", "serving", "serving", phase="inference")
    # Another organisation's rule for the unmapped namespace attributes nothing here.
    _rule(outsider, "label:namespace", "scratch", "research")
    return PrometheusSource.objects.create(
        organisation=tenant.organisation,
        name="cluster",
        url=prometheus_url,
        location=Location.objects.get(organisation=tenant.organisation, code="lab-paris"),
        hardware_by_gpu_model={"NVIDIA A100-SXM4-80GB": "nvidia-a100-80gb"},
        pulled_until=T0,
    )


def _stored() -> list[WorkloadRecord]:
    return list(
        WorkloadRecord.objects.select_related("team", "ai_model", "hardware").order_by(
            "team__slug", "started_at"
        )
    )


class TestPull:
    def test_it_stores_each_complete_hour_of_each_mapped_series(self, source):
        result = prometheus_source_pull(source_id=source.id, now=H + timedelta(minutes=20))

        # 3 hours × 2 mapped series; the `scratch` namespace has no rule of this organisation
        assert (result.hours, result.created, result.duplicates) == (3, 6, 0)
        assert result.unmapped_series == 1
        records = _stored()
        research, serving = records[:3], records[3:]
        # DCGM: 1.8e9 mJ an hour = 1.8e6 J = 1.8e6 / 3.6e6 = 0.5 kWh
        assert [r.energy_kwh for r in research] == pytest.approx([0.5] * 3, rel=1e-9)
        # Kepler: 250 J/s × 3600 s = 9e5 J = 0.25 kWh, the hour with the reset included
        assert [r.energy_kwh for r in serving] == pytest.approx([0.25] * 3, rel=1e-9)
        assert [r.started_at for r in research] == [T0, T0 + HOUR, T0 + 2 * HOUR]
        assert all(r.ended_at - r.started_at == HOUR for r in records)
        assert {(r.team.slug, r.phase) for r in research} == {("research", "training")}
        assert {r.ai_model.name for r in research} == {"atlas-7b"}
        assert {r.hardware.code for r in research} == {"nvidia-a100-80gb"}
        assert {(r.team.slug, r.phase, r.hardware) for r in serving} == {
            ("serving", "inference", None)
        }
        assert research[0].tags["pod"] == "research-1"
        assert IngestBatch.objects.get().source == IngestBatch.Source.PROMETHEUS
        source.refresh_from_db()
        assert source.pulled_until == H

    def test_it_never_pulls_the_running_hour(self, source):
        # the exporter's live series (namespace "live") only has samples in the running hour
        prometheus_source_pull(source_id=source.id, now=H + timedelta(minutes=59))

        assert max(r.ended_at for r in _stored()) == H
        assert not WorkloadRecord.objects.filter(tags__namespace="live").exists()

    def test_it_resumes_after_a_gap_and_stores_a_repulled_hour_once(self, source):
        first = prometheus_source_pull(source_id=source.id, now=H - HOUR + timedelta(minutes=5))
        second = prometheus_source_pull(source_id=source.id, now=H + timedelta(minutes=5))
        PrometheusSource.objects.filter(pk=source.pk).update(pulled_until=T0)
        again = prometheus_source_pull(source_id=source.id, now=H + timedelta(minutes=5))

        assert (first.hours, first.created) == (2, 4)
        # the resumed pull starts after the hour it stored last: nothing read twice
        assert (second.hours, second.created, second.duplicates) == (1, 2, 0)
        assert (again.created, again.duplicates) == (0, 6)
        # 3 × 0.5 + 3 × 0.25 = 2.25 kWh, never counted twice
        assert sum(r.energy_kwh for r in _stored()) == pytest.approx(2.25, rel=1e-9)

    def test_its_records_are_computed_as_measured_energy_at_the_facility(self, source):
        prometheus_source_pull(source_id=source.id, now=H + timedelta(minutes=5))
        records_compute()

        record = _stored()[0]
        assert record.energy_tier == "measured"
        # 0.5 kWh at the GPU × PUE 1.2 of the Paris lab = 0.6 kWh;
        # × 0.036 kg/kWh (EEA, France 2024) = 0.0216 kg CO2e
        assert record.facility_kwh == pytest.approx(0.6)
        assert record.grid_factor.kg_per_kwh == 0.036
        assert record.location_kg == pytest.approx(0.0216)


class TestBeat:
    def test_it_pulls_every_enabled_source_and_skips_disabled_ones(
        self, source, tenant, eager_celery
    ):
        disabled = PrometheusSource.objects.create(
            organisation=tenant.organisation,
            name="old cluster",
            url=source.url,
            location=source.location,
            enabled=False,
            pulled_until=T0,
        )

        assert pull_prometheus_sources.delay().get() == 1

        # 3 hours × 2 mapped series, all from the enabled source
        assert WorkloadRecord.objects.count() == 6
        disabled.refresh_from_db()
        assert disabled.pulled_until == T0

    def test_a_failed_pull_is_kept_on_the_source_for_the_next_beat(self, tenant, eager_celery):
        source = _unreachable_source(tenant)

        assert pull_prometheus_source.delay(source.id).get() == 0

        source.refresh_from_db()
        assert "did not answer" in source.last_error


def _unreachable_source(tenant) -> PrometheusSource:
    return PrometheusSource.objects.create(
        organisation=tenant.organisation,
        name="down",
        url=f"http://127.0.0.1:{free_port()}",
        location=Location.objects.get(organisation=tenant.organisation, code="lab-paris"),
        pulled_until=T0,
    )


class TestPullFailures:
    def test_it_keeps_its_place_and_says_why_when_prometheus_does_not_answer(self, tenant):
        source = _unreachable_source(tenant)

        with pytest.raises(ApplicationError, match="did not answer"):
            prometheus_source_pull(source_id=source.id, now=H)

        source.refresh_from_db()
        assert source.pulled_until == T0
        assert "did not answer" in source.last_error
        assert not WorkloadRecord.objects.exists()


class TestPullWindow:
    def test_it_covers_the_complete_hours_since_the_last_pull(self):
        now = datetime(2026, 3, 1, 10, 59, tzinfo=UTC)
        start = datetime(2026, 3, 1, 7, tzinfo=UTC)

        assert pull_window(pulled_until=start, now=now) == (start, now.replace(minute=0))

    def test_it_has_nothing_to_pull_within_the_running_hour(self):
        now = datetime(2026, 3, 1, 10, 59, tzinfo=UTC)

        assert pull_window(pulled_until=now.replace(minute=0), now=now) is None

    def test_a_long_gap_is_pulled_a_week_at_a_time(self):
        start = datetime(2026, 1, 1, tzinfo=UTC)
        now = datetime(2026, 3, 1, tzinfo=UTC)

        assert pull_window(pulled_until=start, now=now) == (start, start + timedelta(days=7))

    def test_a_new_source_starts_a_day_back(self):
        now = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)

        assert pull_window(pulled_until=None, now=now) == (
            datetime(2026, 2, 28, 10, tzinfo=UTC),
            datetime(2026, 3, 1, 10, tzinfo=UTC),
        )
