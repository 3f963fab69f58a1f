"""Team limits: one rule (Principal.visible) for every read, and a limit never fails open."""

import pytest

from accounts.models import Role, Team
from accounts.principal import principal_for_membership
from accounts.services import member_update, team_create
from inventory.models import DailyRollup, Location
from inventory.selectors import (
    computed_records_by_location,
    facility_indicators_for_year,
    facility_records_and_indicators,
)
from tests.reports.test_footprint_api import footprint, seed

pytestmark = pytest.mark.django_db

# seed(): 6 records of 8 GPUs × 500 W × 10 h = 40 kWh IT each; 4 of research, 2 of serving.


def it_kwh(tenant, role="engineer") -> float:
    # seed()'s records are all at the owned lab: Scope 2.
    return footprint(tenant.client_for(role)).json()["totals"]["scope2"]["it_kwh"]


def test_it_shows_a_limited_engineer_only_its_teams_figures(tenant):
    seed(tenant)
    assert it_kwh(tenant) == pytest.approx(80.0)  # 2 serving records × 40 kWh
    assert it_kwh(tenant, "admin") == pytest.approx(240.0)  # 6 × 40 kWh


def test_it_shows_nothing_to_an_engineer_whose_only_team_was_deleted(tenant):
    seed(tenant)
    engineer = tenant.members[Role.ENGINEER]
    platform = team_create(organisation=tenant.organisation, name="Platform")
    member_update(membership=engineer, role=Role.ENGINEER, teams=[platform])
    platform.delete()
    principal = principal_for_membership(engineer)
    assert principal.team_ids == frozenset()
    assert not principal.visible(DailyRollup.objects.all()).exists()
    assert it_kwh(tenant) == 0.0  # not 240: a limit that lost its teams is no limit lifted


def test_it_lets_an_engineer_without_a_limit_see_every_team(tenant):
    seed(tenant)
    member_update(membership=tenant.members[Role.ENGINEER], role=Role.ENGINEER, teams=[])
    assert it_kwh(tenant) == pytest.approx(240.0)


def test_it_never_shows_another_organisations_rows(tenant, outsider):
    seed(tenant)
    for role in ("admin", "engineer"):
        principal = principal_for_membership(outsider.members[role])
        assert not principal.visible(DailyRollup.objects.all()).exists()
        assert not principal.visible(Team.objects.filter(slug="research"), team="id").filter(
            organisation=tenant.organisation
        )


def test_the_rows_of_one_team_are_those_visible_of_it(tenant, outsider):
    seed(tenant)
    rollups = DailyRollup.objects.all()
    research, serving = tenant.teams["research"].id, tenant.teams["serving"].id
    engineer = principal_for_membership(tenant.members[Role.ENGINEER])  # limited to serving
    admin = principal_for_membership(tenant.members[Role.ADMIN])

    def records(principal, team_id) -> int:
        return sum(r.record_count for r in principal.visible_of_team(rollups, team_id))

    # seed(): research has 4 records, serving 2.
    assert records(engineer, serving) == 2
    assert records(engineer, research) == 0  # not its team: nothing, never the team's rows
    assert records(admin, research) == 4
    assert records(principal_for_membership(outsider.members[Role.ADMIN]), research) == 0


def test_it_hides_organisation_wide_rows_from_a_limited_principal(tenant):
    admin = principal_for_membership(tenant.members[Role.ADMIN])
    engineer = principal_for_membership(tenant.members[Role.ENGINEER])
    teams = Team.objects.all()
    assert admin.visible(teams, team=None).count() == 2  # research, serving
    assert engineer.visible(teams, team=None).count() == 0
    serving = tenant.teams["serving"].id
    assert engineer.sees_teams([serving]) and not engineer.sees_teams([serving, serving + 1])
    assert not engineer.sees_teams(None) and admin.sees_teams(None)


def test_the_facility_record_counts_are_those_of_the_principals_teams(tenant):
    seed(tenant)
    paris = Location.objects.get(organisation=tenant.organisation, code="lab-paris").id
    engineer = principal_for_membership(tenant.members[Role.ENGINEER])
    admin = principal_for_membership(tenant.members[Role.ADMIN])
    assert computed_records_by_location(principal=engineer) == {paris: 2}  # serving's 2
    assert computed_records_by_location(principal=admin) == {paris: 6}  # 4 research + 2


def test_the_pages_say_when_a_member_sees_only_its_teams(tenant):
    engineer, admin = tenant.client_for("engineer"), tenant.client_for("admin")
    assert "Your teams only." in engineer.get("/data/").content.decode()
    assert "Your teams only." not in admin.get("/data/").content.decode()
    assert "Teams and members" not in engineer.get("/settings/teams/").content.decode()
    assert "Teams and members" in admin.get("/settings/teams/").content.decode()


def test_the_settings_page_reads_record_counts_and_indicators_in_one_scan(tenant):
    from datetime import date

    from tests.reports.scope2_data import rollup

    seed(tenant)  # 2026: 6 records at lab-paris, 40 kWh IT each, PUE 1.2
    paris = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
    # 2025: a research record counted on the page, not in 2026's indicators (PUE 1.0).
    rollup(tenant, date(2025, 6, 1), 10.0)
    for role, counted, in_2026 in ((Role.ADMIN, 7, 6), (Role.ENGINEER, 2, 2)):
        principal = principal_for_membership(tenant.members[role])
        computed, lines = facility_records_and_indicators(principal=principal, year=2026)
        assert computed == computed_records_by_location(principal=principal) == {paris.id: counted}
        assert lines == facility_indicators_for_year(principal=principal, year=2026)
        (line,) = lines
        assert line.records == in_2026
        assert line.indicators.it_mwh == pytest.approx(in_2026 * 40.0 / 1000)
        assert line.indicators.pue == pytest.approx(1.2)  # 2025's 1.0 left out
