"""A CodeCarbon run: its lineage says what the portal applied, and its page shows
CodeCarbon's own figure beside the portal's, with both factors."""

import pytest
from rest_framework.test import APIClient

from accounts.principal import Principal, principal_for_membership
from inventory.models import WorkloadRecord
from inventory.selectors import codecarbon_run_lines
from tests.inventory.test_codecarbon_ingest import emissions_data, post_output, token_key

# Imports and computations run as the worker would, in-process, with or without a broker.
pytestmark = pytest.mark.usefixtures("eager_celery")


def _admin_principal(tenant) -> Principal:
    return principal_for_membership(tenant.members["admin"])


@pytest.fixture
def posted_run(tenant, django_capture_on_commit_callbacks):
    """One HTTP-output post of a run in France: 1.2 kWh (CodeCarbon's PUE 1.0 included),
    0.05 kg by CodeCarbon's count; computed by the portal."""
    with django_capture_on_commit_callbacks(execute=True):
        response = post_output(APIClient(), token_key(tenant, team="research"), emissions_data())
    assert response.status_code == 201
    return WorkloadRecord.objects.get()


@pytest.mark.django_db
class TestLineage:
    def test_it_states_that_no_pue_was_applied_to_energy_that_includes_one(self, posted_run):
        record = posted_run
        assert record.status == "computed"
        # CodeCarbon's 1.2 kWh already include its PUE: the portal applies × 1.0 (it used to
        # state 1.56, its default PUE, though it applied none).
        assert (record.it_kwh, record.pue_used, record.facility_kwh) == (1.2, 1.0, 1.2)
        assert record.tags["codecarbon_pue"] == "1.0"


@pytest.mark.django_db
class TestRunsPage:
    def test_it_shows_codecarbons_figure_beside_the_portals_with_both_factors(
        self, tenant, posted_run
    ):
        (line,) = codecarbon_run_lines(principal=_admin_principal(tenant))
        # CodeCarbon: 0.05 kg / 1.2 kWh = 41.67 g/kWh. Portal: France 2024 (EEA, direct, the
        # latest year for a 2026 run) 0.036 kg/kWh × 1.2 kWh × PUE 1.0 = 0.0432 kg.
        assert line.energy_kwh == 1.2
        assert line.codecarbon_kg == 0.05
        assert line.codecarbon_g_per_kwh == pytest.approx(41.6667, abs=1e-4)
        assert line.portal_kg == pytest.approx(0.0432, rel=1e-12)
        assert line.portal_g_per_kwh == pytest.approx(36.0, rel=1e-12)
        assert line.difference_kg == pytest.approx(0.0432 - 0.05, rel=1e-9)
        assert [(f.zone, f.year, f.kg_per_kwh) for f in line.factors] == [("FR", 2024, 0.036)]
        assert line.codecarbon_pue == "1.0"

        html = tenant.client_for("admin").get("/data/codecarbon-runs/").content.decode()
        for figure in ("1.2000", "0.0500", "41.7", "0.0432", "36.0", "-0.0068"):
            assert figure in html, figure
        assert "FR 2024: 0.0360 kg/kWh (EEA" in html
        assert "1.0 by CodeCarbon" in html and "1.0 by the portal" in html

    def test_other_teams_and_organisations_do_not_see_the_run(self, tenant, outsider, posted_run):
        # The engineer is limited to the serving team; the run is research's.
        html = tenant.client_for("engineer").get("/data/codecarbon-runs/").content.decode()
        assert posted_run.tags["codecarbon_run_id"] not in html
        assert "No CodeCarbon runs yet." in html
        html = outsider.client_for("admin").get("/data/codecarbon-runs/").content.decode()
        assert "No CodeCarbon runs yet." in html

    def test_an_uncomputed_run_shows_no_portal_figure(self, tenant):
        post_output(APIClient(), token_key(tenant, team="research"), emissions_data())
        (line,) = codecarbon_run_lines(principal=_admin_principal(tenant))
        assert (line.records, line.computed, line.portal_kg, line.factors) == (1, 0, 0.0, ())
        assert line.portal_g_per_kwh is None


@pytest.mark.django_db
def test_it_shows_times_in_the_organisations_time_zone(tenant, posted_run):
    tenant.organisation.time_zone = "Asia/Tokyo"
    tenant.organisation.save()
    html = tenant.client_for("admin").get("/data/codecarbon-runs/").content.decode()
    # The run went from 11:00 to 12:00 UTC on 10 January: 20:00 to 21:00 in Tokyo (UTC+9).
    assert "10 Jan 2026 20:00 – 10 Jan 2026 21:00 JST" in html
