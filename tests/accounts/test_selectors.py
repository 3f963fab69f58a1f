"""The hand-written token lookup loads what the ORM's select_related would; the one "visible
team or 404" of every team page and API."""

import pytest
from django.http import Http404
from django.utils import timezone

from accounts.models import ApiToken
from accounts.principal import principal_for_membership
from accounts.selectors import api_token_by_prefix, visible_team_or_404
from accounts.services import api_token_create, api_token_touch, team_create


def orm_token(prefix: str) -> ApiToken:
    return ApiToken.objects.select_related("organisation", "team").get(prefix=prefix)


def loaded(token: ApiToken | None) -> dict:
    """Every column of the token, its organisation and its team, as loaded."""

    def columns(instance):
        if instance is None:
            return None
        return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}

    return {
        "token": columns(token),
        "organisation": columns(token.organisation),
        "team": columns(token.team),
    }


@pytest.mark.django_db
class TestTokenByPrefix:
    def test_a_team_token_loads_as_the_orm_loads_it(self, tenant):
        token, _ = api_token_create(
            organisation=tenant.organisation,
            name="ci",
            scopes=["ingest", "read"],
            team=tenant.teams["research"],
        )
        api_token_touch(token=token, min_interval_s=0)
        found = api_token_by_prefix(prefix=token.prefix)
        assert loaded(found) == loaded(orm_token(token.prefix))
        assert found.scopes == ["ingest", "read"]
        assert found.last_used_at.tzinfo is not None
        assert (found.team.slug, found.organisation.slug) == ("research", tenant.organisation.slug)

    def test_an_organisation_token_has_no_team(self, tenant):
        token, _ = api_token_create(organisation=tenant.organisation, name="o", scopes=["read"])
        found = api_token_by_prefix(prefix=token.prefix)
        assert found.team is None
        assert loaded(found) == loaded(orm_token(token.prefix))

    def test_a_revoked_token_is_loaded_with_its_revocation(self, tenant):
        token, _ = api_token_create(organisation=tenant.organisation, name="r", scopes=["read"])
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        assert not api_token_by_prefix(prefix=token.prefix).is_active

    def test_an_unknown_prefix_finds_nothing(self, tenant, outsider):
        assert api_token_by_prefix(prefix="0123456789ab") is None


@pytest.mark.django_db
class TestVisibleTeamOr404:
    def test_the_whole_organisation_sees_each_of_its_teams(self, tenant):
        admin = principal_for_membership(tenant.members["admin"])
        for slug in ("research", "serving"):
            assert visible_team_or_404(principal=admin, slug=slug) == tenant.teams[slug]

    def test_a_team_limited_engineer_sees_only_its_own_team(self, tenant):
        engineer = principal_for_membership(tenant.members["engineer"])  # serving team only
        assert visible_team_or_404(principal=engineer, slug="serving") == tenant.teams["serving"]
        with pytest.raises(Http404, match="No such team"):
            visible_team_or_404(principal=engineer, slug="research")

    def test_another_organisations_team_is_no_such_team(self, tenant, outsider):
        team_create(organisation=outsider.organisation, name="Vision", slug="vision")
        admin = principal_for_membership(tenant.members["admin"])
        with pytest.raises(Http404, match="No such team"):
            visible_team_or_404(principal=admin, slug="vision")
