"""Settings pages for teams, members and API tokens: admins manage, others read or are refused,
other organisations' rows are 404, a new token's key is shown exactly once."""

import re

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts.authentication import token_authenticate
from accounts.models import ApiToken, Membership, Role, Team
from accounts.principal import principal_for_token
from accounts.services import api_token_create
from greenai_portal.errors import ApplicationError


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.mark.django_db
class TestTeamsAndMembers:
    def test_an_admin_adds_a_team_and_a_duplicate_is_refused(self, tenant):
        client = tenant.client_for("admin")
        response = client.post("/settings/teams/create/", {"name": "Vision Lab"}, follow=True)
        assert "Team Vision Lab created" in messages_of(response)
        assert Team.objects.filter(organisation=tenant.organisation, slug="vision-lab").exists()
        response = client.post("/settings/teams/create/", {"name": "Vision lab"}, follow=True)
        assert "A team with the slug 'vision-lab' already exists" in messages_of(response)

    def test_an_admin_adds_an_engineer_limited_to_a_team(self, tenant):
        client = tenant.client_for("admin")
        response = client.post(
            "/settings/members/add/",
            {
                "username": "newbie",
                "password": "a-long-enough-passphrase",
                "role": Role.ENGINEER,
                "teams": [tenant.teams["research"].id],
            },
            follow=True,
        )
        assert "newbie added as Engineer; they log in as newbie@acme" in messages_of(response)
        membership = Membership.objects.get(user__username="newbie@acme")
        assert list(membership.teams.values_list("slug", flat=True)) == ["research"]
        # The same name again in this organisation is refused rather than taken over.
        response = client.post(
            "/settings/members/add/",
            {"username": "newbie", "password": "a-long-enough-passphrase", "role": "admin"},
            follow=True,
        )
        assert "newbie@acme is already a login of Org acme" in messages_of(response)
        assert Membership.objects.get(user__username="newbie@acme").role == Role.ENGINEER

    def add_auditor(self, organisation, username: str):
        """The organisation's admin adds an auditor from the settings page."""
        return organisation.client_for("admin").post(
            "/settings/members/add/",
            {"username": username, "password": "a-long-enough-passphrase", "role": "auditor"},
            follow=True,
        )

    def test_a_name_used_in_another_organisation_is_neither_revealed_nor_taken_over(
        self, tenant, outsider
    ):
        self.add_auditor(outsider, "dana")
        response = self.add_auditor(tenant, "dana")
        # Acme's dana is a new login; nothing says another organisation has a dana.
        assert messages_of(response) == [
            "dana added as Auditor (read-only); they log in as dana@acme"
        ]
        logins = Membership.objects.filter(user__username__startswith="dana@")
        assert sorted(logins.values_list("user__username", "organisation__slug")) == [
            ("dana@acme", "acme"),
            (f"dana@{outsider.organisation.slug}", outsider.organisation.slug),
        ]

    def test_a_username_with_other_characters_is_refused(self, tenant):
        response = self.add_auditor(tenant, "dana@globex")
        assert messages_of(response) == [
            "Username (they log in as username@acme): Letters, digits and . + - _ only."
        ]
        assert not Membership.objects.filter(user__username__startswith="dana").exists()

    def test_a_weak_password_is_refused(self, tenant):
        response = tenant.client_for("admin").post(
            "/settings/members/add/",
            {"username": "weak", "password": "password", "role": "auditor"},
            follow=True,
        )
        assert any(m.startswith("Password:") for m in messages_of(response))

    def test_the_last_admin_cannot_be_demoted_or_removed(self, tenant):
        client = tenant.client_for("admin")
        admin = tenant.members["admin"]
        response = client.post(f"/settings/members/{admin.pk}/", {"role": "auditor"}, follow=True)
        assert "An organisation needs at least one admin" in messages_of(response)
        response = client.post(f"/settings/members/{admin.pk}/remove/", follow=True)
        assert "An organisation needs at least one admin" in messages_of(response)
        auditor = tenant.members["auditor"]
        client.post(f"/settings/members/{auditor.pk}/", {"role": "esg_officer"})
        auditor.refresh_from_db()
        assert auditor.role == "esg_officer"

    def test_other_roles_read_and_cannot_write(self, tenant):
        for role in ("esg_officer", "auditor", "engineer"):
            client = tenant.client_for(role)
            assert client.get("/settings/teams/").status_code == 200
            assert client.post("/settings/teams/create/", {"name": "X"}).status_code == 403
            member = tenant.members["auditor"]
            assert client.post(f"/settings/members/{member.pk}/remove/").status_code == 403
        html = tenant.client_for("engineer").get("/settings/teams/").content.decode()
        assert "Serving" in html and "Research" not in html
        assert "acme-admin" not in html  # engineers do not see the member list

    def test_another_organisations_members_are_404(self, tenant, outsider):
        theirs = outsider.members["auditor"]
        client = tenant.client_for("admin")
        assert client.post(f"/settings/members/{theirs.pk}/remove/").status_code == 404
        assert client.post(f"/settings/members/{theirs.pk}/", {"role": "admin"}).status_code == 404


@pytest.mark.django_db
class TestApiTokens:
    def test_a_new_key_is_shown_once_and_works(self, tenant):
        client = tenant.client_for("admin")
        response = client.post(
            "/settings/tokens/create/",
            {"name": "ci", "scopes": ["read"], "team": tenant.teams["serving"].id},
        )
        assert response.status_code == 302
        html = client.get("/settings/tokens/").content.decode()
        key = re.search(r'<code id="new-key">([^<]+)</code>', html).group(1)
        token = ApiToken.objects.get(name="ci")
        assert token.team == tenant.teams["serving"] and token.scopes == ["read"]
        assert key not in token.key_hash
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert api.get("/api/v1/footprint/?start=2026-01-01&end=2026-02-01").status_code == 200
        # Shown once: the next visit no longer has it.
        assert key not in client.get("/settings/tokens/").content.decode()
        client.post(f"/settings/tokens/{token.pk}/revoke/")
        assert api.get("/api/v1/footprint/?start=2026-01-01&end=2026-02-01").status_code in (
            401,
            403,
        )

    def test_esg_officers_and_auditors_make_no_tokens(self, tenant):
        token, _ = ApiToken.objects.get_or_create(
            organisation=tenant.organisation, name="t", prefix="abc", key_hash="x"
        )
        for role in ("esg_officer", "auditor"):
            client = tenant.client_for(role)
            assert client.get("/settings/tokens/").status_code == 403
            assert client.post("/settings/tokens/create/", {"name": "x"}).status_code == 403
            assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 403

    def test_an_engineer_makes_and_revokes_their_own_tokens_for_their_teams(self, tenant):
        admins, _ = ApiToken.objects.get_or_create(
            organisation=tenant.organisation, name="admin's", prefix="abc", key_hash="x"
        )
        client = tenant.client_for("engineer")  # limited to the team "serving"
        html = client.get("/settings/tokens/").content.decode()
        assert "Your API tokens" in html and "admin&#x27;s" not in html
        assert "All teams" not in html and "Research" not in html
        research = tenant.teams["research"].id
        serving = tenant.teams["serving"].id
        for team in ("", research):
            response = client.post(
                "/settings/tokens/create/",
                {"name": "wide", "scopes": ["ingest"], "team": team},
                follow=True,
            )
            assert any(m.startswith("Limited to team:") for m in messages_of(response))
        assert not ApiToken.objects.filter(name="wide").exists()
        client.post(
            "/settings/tokens/create/", {"name": "gpu-cron", "scopes": ["ingest"], "team": serving}
        )
        key = re.search(
            r'<code id="new-key">([^<]+)</code>', client.get("/settings/tokens/").content.decode()
        ).group(1)
        token = ApiToken.objects.get(name="gpu-cron")
        assert (token.team_id, token.created_by) == (serving, tenant.members["engineer"].user)
        # It authenticates, as the team serving only: no more than its creator.
        assert principal_for_token(token_authenticate(key)).team_ids == frozenset({serving})
        assert client.post(f"/settings/tokens/{admins.pk}/revoke/").status_code == 404
        client.post(f"/settings/tokens/{token.pk}/revoke/")
        token.refresh_from_db()
        admins.refresh_from_db()
        assert token.revoked_at is not None and admins.revoked_at is None

    def test_the_service_keeps_a_limited_creators_token_within_their_teams(self, tenant):
        with pytest.raises(ApplicationError, match="Limit the token to one of your teams"):
            api_token_create(
                organisation=tenant.organisation,
                name="x",
                scopes=["read"],
                team=tenant.teams["research"],
                team_ids=frozenset({tenant.teams["serving"].id}),
            )
        assert not ApiToken.objects.exists()

    def test_bad_scopes_are_refused_and_other_tenants_tokens_are_404(self, tenant, outsider):
        client = tenant.client_for("admin")
        response = client.post(
            "/settings/tokens/create/", {"name": "x", "scopes": ["delete"]}, follow=True
        )
        assert any(m.startswith("Scopes:") for m in messages_of(response))
        theirs, _ = ApiToken.objects.get_or_create(
            organisation=outsider.organisation, name="t", prefix="zzz", key_hash="x"
        )
        assert client.post(f"/settings/tokens/{theirs.pk}/revoke/").status_code == 404
        theirs.refresh_from_db()
        assert theirs.revoked_at is None


@pytest.mark.django_db
class TestTimeZone:
    def test_an_admin_sets_the_time_zone_and_a_bad_name_is_refused(self, tenant, outsider):
        client = tenant.client_for("admin")
        assert "<strong>UTC</strong>" in client.get("/settings/teams/").content.decode()
        response = client.post("/settings/time-zone/", {"time_zone": "Asia/Tokyo"}, follow=True)
        assert "Times without an offset are now read in Asia/Tokyo" in messages_of(response)
        response = client.post("/settings/time-zone/", {"time_zone": "Mars/Olympus"}, follow=True)
        assert any("Unknown time zone 'Mars/Olympus'" in m for m in messages_of(response))
        tenant.organisation.refresh_from_db()
        outsider.organisation.refresh_from_db()
        assert (tenant.organisation.time_zone, outsider.organisation.time_zone) == (
            "Asia/Tokyo",
            "UTC",
        )

    def test_every_form_refuses_an_unknown_zone(self, tenant):
        # Django admin's form runs the field's validators: a bad name never reaches the
        # CodeCarbon posts that read times in it.
        tenant.organisation.time_zone = "Mars/Olympus"
        with pytest.raises(ValidationError) as error:
            tenant.organisation.full_clean()
        assert "Unknown time zone 'Mars/Olympus'" in str(error.value.message_dict["time_zone"])

    def test_only_admins_set_it(self, tenant):
        for role in ("esg_officer", "auditor", "engineer"):
            client = tenant.client_for(role)
            assert (
                client.post("/settings/time-zone/", {"time_zone": "Asia/Tokyo"}).status_code == 403
            )
        tenant.organisation.refresh_from_db()
        assert tenant.organisation.time_zone == "UTC"


def main_menu_current(html: str) -> list[str]:
    """The main menu items marked as the current page."""
    menu = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', menu)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "item"),
    [
        ("/settings/teams/", "Settings"),
        ("/settings/instruments/", "Settings"),
        ("/", "Overview"),
        ("/teams/research/", "Overview"),
        ("/reports/", "Reports"),
        ("/data/", "Data"),
        ("/factors/", "Factor library"),
    ],
)
def test_one_main_menu_item_is_current(tenant, path, item):
    html = tenant.client_for("admin").get(path).content.decode()
    assert main_menu_current(html) == [item]
