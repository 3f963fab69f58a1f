"""The one "visible model or 404" every model page and API goes through."""

from datetime import date

import pytest
from django.http import Http404

from accounts.principal import principal_for_membership
from inventory.models import AiModel, DailyRollup
from inventory.selectors import visible_model_or_404
from tests.reports.scope2_data import rollup


def model_of(tenant, name: str, team: str) -> AiModel:
    """A model with one rollup row of `team`: what makes it a team's to see."""
    model = AiModel.objects.create(organisation=tenant.organisation, name=name)
    rollup(tenant, date(2026, 1, 10), 100.0, ai_model=model)
    DailyRollup.objects.filter(ai_model=model).update(team=tenant.teams[team])
    return model


@pytest.mark.django_db
class TestVisibleModelOr404:
    def test_the_whole_organisation_sees_every_model_of_its_own(self, tenant):
        admin = principal_for_membership(tenant.members["admin"])
        research = model_of(tenant, "atlas-7b", "research")
        unused = AiModel.objects.create(organisation=tenant.organisation, name="idle-1b")
        assert visible_model_or_404(principal=admin, model_id=research.id) == research
        # No rollup yet: still the organisation's model.
        assert visible_model_or_404(principal=admin, model_id=unused.id) == unused

    def test_a_team_limited_engineer_sees_only_the_models_of_its_teams(self, tenant):
        engineer = principal_for_membership(tenant.members["engineer"])  # serving team only
        serving = model_of(tenant, "chat-3b", "serving")
        research = model_of(tenant, "atlas-7b", "research")
        unused = AiModel.objects.create(organisation=tenant.organisation, name="idle-1b")
        assert visible_model_or_404(principal=engineer, model_id=serving.id) == serving
        for hidden in (research, unused):
            with pytest.raises(Http404, match="No such model"):
                visible_model_or_404(principal=engineer, model_id=hidden.id)

    def test_another_organisations_model_is_no_such_model(self, tenant, outsider):
        theirs = model_of(outsider, "atlas-7b", "research")
        for role in ("admin", "engineer"):
            principal = principal_for_membership(tenant.members[role])
            with pytest.raises(Http404, match="No such model"):
                visible_model_or_404(principal=principal, model_id=theirs.id)

    def test_an_unknown_id_is_no_such_model(self, tenant):
        admin = principal_for_membership(tenant.members["admin"])
        with pytest.raises(Http404, match="No such model"):
            visible_model_or_404(principal=admin, model_id=999_999_999)
