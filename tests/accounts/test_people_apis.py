"""Teams and members over the REST API, with tokens of the manage scope: what the settings
pages set, the API sets, through the same services (audited), and only for one's own
organisation (another organisation's teams and members are 404)."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from accounts import tokens
from accounts.audit import audit_event_list
from accounts.models import ApiToken, Membership, Role, Team
from accounts.services import api_token_create, api_token_revoke
from greenai_portal.errors import ApplicationError
from tests.conftest import workload

pytestmark = pytest.mark.django_db


def last_event(tenant):
    return audit_event_list(organisation=tenant.organisation).first()


class TestManageScope:
    def test_it_lets_an_admin_create_a_manage_token(self, tenant):
        token, _ = api_token_create(
            organisation=tenant.organisation,
            name="terraform",
            scopes=["manage", "read"],
            created_by=tenant.members["admin"].user,
        )
        assert token.scopes == ["manage", "read"]
        assert last_event(tenant).details["scopes"] == ["manage", "read"]

    @pytest.mark.parametrize(
        "org, role",
        [
            ("tenant", "esg_officer"),
            ("tenant", "engineer"),
            ("tenant", "auditor"),
            ("outsider", "admin"),  # an admin, but of another organisation
        ],
    )
    def test_it_refuses_a_manage_token_created_by_anyone_but_its_admin(
        self, tenant, outsider, org, role
    ):
        creator = {"tenant": tenant, "outsider": outsider}[org].members[role].user
        with pytest.raises(ApplicationError) as refused:
            api_token_create(
                organisation=tenant.organisation, name="x", scopes=["manage"], created_by=creator
            )
        assert refused.value.status_code == 403
        assert not ApiToken.objects.exists()

    def test_it_never_gives_a_team_limited_token_the_manage_scope(self, tenant):
        with pytest.raises(ApplicationError, match="limited to a team"):
            api_token_create(
                organisation=tenant.organisation,
                name="x",
                scopes=["manage", "ingest"],
                team=tenant.teams["serving"],
                created_by=tenant.members["admin"].user,
            )
        assert not ApiToken.objects.exists()

    def test_the_token_page_creates_a_manage_token_for_an_admin_only(self, tenant):
        form = {"name": "terraform", "scopes": ["manage", "read"]}
        assert tenant.client_for("admin").post("/settings/tokens/create/", form).status_code == 302
        assert ApiToken.objects.get().scopes == ["manage", "read"]
        form["team"] = tenant.teams["serving"].pk
        tenant.client_for("admin").post("/settings/tokens/create/", form)
        assert ApiToken.objects.count() == 1

    def test_read_and_ingest_tokens_cannot_write_settings(self, tenant):
        client = tenant.token_client(scopes=("ingest", "read"))
        assert client.post("/api/v1/teams/", {"name": "Ops"}, format="json").status_code == 403
        assert not Team.objects.filter(slug="ops").exists()


class TestTeamsApi:
    def test_it_creates_a_team_with_the_slug_given_and_audits_it(self, tenant):
        response = tenant.manage_client().post(
            "/api/v1/teams/", {"name": "Platform ML", "slug": "plat"}, format="json"
        )
        assert response.status_code == 201, response.content
        assert (response.json()["slug"], response.json()["name"]) == ("plat", "Platform ML")
        event = last_event(tenant)
        assert (event.action, event.details) == (
            "team.create",
            {"name": "Platform ML", "slug": "plat"},
        )
        assert event.actor_label.startswith("token test (")

    def test_it_derives_the_slug_from_the_name_and_refuses_a_taken_one(self, tenant):
        client = tenant.manage_client()
        assert (
            client.post("/api/v1/teams/", {"name": "Platform ML"}).json()["slug"] == "platform-ml"
        )
        taken = client.post("/api/v1/teams/", {"name": "Other", "slug": "serving"}, format="json")
        assert taken.status_code == 400
        assert "already exists" in taken.json()["message"]

    def test_it_refuses_a_team_without_a_name(self, tenant):
        response = tenant.manage_client().post("/api/v1/teams/", {"name": ""}, format="json")
        assert response.status_code == 400
        assert Team.objects.filter(organisation=tenant.organisation).count() == 2

    def test_it_lists_the_teams_a_caller_may_see(self, tenant):
        everyone = tenant.client_for("esg_officer").get("/api/v1/teams/").json()
        assert [t["slug"] for t in everyone] == ["research", "serving"]
        engineer = tenant.client_for("engineer").get("/api/v1/teams/").json()
        assert [t["slug"] for t in engineer] == ["serving"]

    def test_it_renames_a_team_and_keeps_its_records(self, tenant):
        serving = tenant.teams["serving"]
        response = tenant.manage_client().patch(
            f"/api/v1/teams/{serving.pk}/", {"slug": "inference"}, format="json"
        )
        assert response.status_code == 200, response.content
        serving.refresh_from_db()
        assert (serving.slug, serving.name) == ("inference", "Serving")
        assert last_event(tenant).details == {
            "before": {"name": "Serving", "slug": "serving"},
            "after": {"name": "Serving", "slug": "inference"},
        }

    def test_it_refuses_renaming_to_another_teams_slug(self, tenant):
        serving = tenant.teams["serving"]
        response = tenant.manage_client().patch(
            f"/api/v1/teams/{serving.pk}/", {"slug": "research"}, format="json"
        )
        assert response.status_code == 400
        serving.refresh_from_db()
        assert serving.slug == "serving"

    def test_it_deletes_an_unused_team(self, tenant):
        team = Team.objects.create(organisation=tenant.organisation, name="Old", slug="old")
        response = tenant.manage_client().delete(f"/api/v1/teams/{team.pk}/")
        assert response.status_code == 204
        assert not Team.objects.filter(pk=team.pk).exists()
        assert last_event(tenant).action == "team.delete"

    def test_it_refuses_to_delete_a_team_with_records(self, tenant):
        research = tenant.teams["research"]
        sent = tenant.token_client().post(
            "/api/v1/workloads/", [workload(external_id="r-1", team="research")], format="json"
        )
        assert sent.status_code == 201, sent.content
        response = tenant.manage_client().delete(f"/api/v1/teams/{research.pk}/")
        assert response.status_code == 409
        assert Team.objects.filter(pk=research.pk).exists()
        assert last_event(tenant).action != "team.delete"

    def test_it_refuses_to_delete_a_team_an_engineer_is_limited_to(self, tenant):
        # Deleting it would leave the engineer no team, which means every team.
        serving = tenant.teams["serving"]
        response = tenant.manage_client().delete(f"/api/v1/teams/{serving.pk}/")
        assert response.status_code == 409
        assert "Members are limited" in response.json()["message"]

    def test_it_refuses_to_delete_a_team_an_active_token_is_limited_to(self, tenant):
        research = tenant.teams["research"]
        token, _ = api_token_create(
            organisation=tenant.organisation, name="ci", scopes=["ingest"], team=research
        )
        client = tenant.manage_client()
        assert client.delete(f"/api/v1/teams/{research.pk}/").status_code == 409
        api_token_revoke(token=token)
        assert client.delete(f"/api/v1/teams/{research.pk}/").status_code == 204

    def test_another_organisations_team_is_not_found(self, tenant, outsider):
        theirs = outsider.teams["research"]
        client = tenant.manage_client()
        assert client.get(f"/api/v1/teams/{theirs.pk}/").status_code == 404
        assert client.patch(f"/api/v1/teams/{theirs.pk}/", {"name": "X"}).status_code == 404
        assert client.delete(f"/api/v1/teams/{theirs.pk}/").status_code == 404
        theirs.refresh_from_db()
        assert theirs.name == "Research"


class TestMembersApi:
    NEW = {
        "username": "dana",
        "email": "dana@example.com",
        "password": "a-long-enough-passphrase-42",
        "role": "engineer",
        "teams": ["research"],
    }

    def test_it_adds_a_member_who_can_sign_in_and_audits_it(self, tenant):
        response = tenant.manage_client().post("/api/v1/members/", self.NEW, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        # Members an admin adds log in as name@organisation-slug (a name is never taken in
        # another organisation, so none is revealed).
        assert (body["username"], body["role"], body["teams"]) == (
            "dana@acme",
            "engineer",
            ["research"],
        )
        assert "password" not in body
        assert User.objects.get(username="dana@acme").check_password(self.NEW["password"])
        event = last_event(tenant)
        assert (event.action, event.details["teams"]) == ("member.create", ["research"])

    def test_it_refuses_a_taken_username_a_weak_password_and_an_unknown_team(
        self, tenant, outsider
    ):
        client = tenant.manage_client()
        assert client.post("/api/v1/members/", {**self.NEW, "username": "erin"}).status_code == 201
        for bad in (
            {**self.NEW, "username": "erin"},
            {**self.NEW, "password": "12345678"},
            {**self.NEW, "teams": ["nope"]},
            {**self.NEW, "role": "owner"},
        ):
            assert client.post("/api/v1/members/", bad, format="json").status_code == 400, bad
        assert not Membership.objects.filter(user__username="dana@acme").exists()

    def test_it_changes_a_role_and_team_limits(self, tenant):
        engineer = tenant.members["engineer"]
        client = tenant.manage_client()
        url = f"/api/v1/members/{engineer.pk}/"
        widened = client.patch(url, {"teams": ["research", "serving"]}, format="json").json()
        assert (widened["role"], widened["teams"]) == ("engineer", ["research", "serving"])
        promoted = client.patch(url, {"role": "esg_officer"}, format="json").json()
        # Only engineers are limited to teams: the promotion drops the limits.
        assert (promoted["role"], promoted["teams"]) == ("esg_officer", [])
        event = last_event(tenant)
        assert event.details["before"] == {"role": "engineer", "teams": ["research", "serving"]}
        assert event.details["after"] == {"role": "esg_officer", "teams": []}

    def test_it_keeps_the_last_admin(self, tenant):
        admin = tenant.members["admin"]
        client = tenant.manage_client()
        demote = client.patch(f"/api/v1/members/{admin.pk}/", {"role": "auditor"}, format="json")
        assert demote.status_code == 400
        assert client.delete(f"/api/v1/members/{admin.pk}/").status_code == 400
        admin.refresh_from_db()
        assert admin.role == "admin"

    def test_it_removes_a_member(self, tenant):
        auditor = tenant.members["auditor"]
        response = tenant.manage_client().delete(f"/api/v1/members/{auditor.pk}/")
        assert response.status_code == 204
        assert not Membership.objects.filter(pk=auditor.pk).exists()
        assert last_event(tenant).details == {"username": "acme-auditor", "role": "auditor"}

    def test_a_team_limited_caller_sees_no_members(self, tenant):
        assert tenant.client_for("engineer").get("/api/v1/members/").json() == []
        everyone = tenant.client_for("auditor").get("/api/v1/members/").json()
        assert len(everyone) == len(Role.values)

    def test_another_organisations_member_is_not_found(self, tenant, outsider):
        theirs = outsider.members["auditor"]
        client = tenant.manage_client()
        assert client.get(f"/api/v1/members/{theirs.pk}/").status_code == 404
        assert client.delete(f"/api/v1/members/{theirs.pk}/").status_code == 404
        assert Membership.objects.filter(pk=theirs.pk).exists()
        listed = {m["username"] for m in client.get("/api/v1/members/").json()}
        assert not any(name.startswith("globex") for name in listed)

    def test_it_refuses_another_organisations_team_as_a_limit(self, tenant, outsider):
        engineer = tenant.members["engineer"]
        # globex has a "research" team too, but the slug names acme's teams only: a
        # globex-only slug is unknown.
        Team.objects.create(organisation=outsider.organisation, name="Secret", slug="secret")
        response = tenant.manage_client().patch(
            f"/api/v1/members/{engineer.pk}/", {"teams": ["secret"]}, format="json"
        )
        assert response.status_code == 400
        assert [t.slug for t in engineer.teams.all()] == ["serving"]


class TestTokensApi:
    def test_an_admin_creates_a_token_whose_key_works_once_shown(self, tenant):
        client = tenant.client_for("admin")
        body = {"name": "ci", "scopes": ["ingest"], "team": "serving"}
        response = client.post("/api/v1/tokens/", body, format="json")
        assert response.status_code == 201, response.content
        created = response.json()
        assert (created["scopes"], created["team"]) == (["ingest"], "serving")
        token = ApiToken.objects.get(pk=created["id"])
        assert tokens.key_matches(created["key"], token.key_hash)
        assert token.created_by == tenant.members["admin"].user
        listed = client.get("/api/v1/tokens/").json()
        assert [t["prefix"] for t in listed] == [token.prefix]
        assert "key" not in listed[0]

    def test_a_manage_token_creates_ingest_tokens_but_never_a_manage_one(self, tenant):
        client = tenant.manage_client()
        ingest = client.post("/api/v1/tokens/", {"name": "ci", "scopes": ["ingest"]}, format="json")
        assert ingest.status_code == 201, ingest.content
        assert ApiToken.objects.get(pk=ingest.json()["id"]).created_by is None
        assert last_event(tenant).actor_label.startswith("token test (")
        manage = client.post("/api/v1/tokens/", {"name": "x", "scopes": ["manage"]}, format="json")
        assert manage.status_code == 403
        assert not ApiToken.objects.filter(name="x").exists()

    def test_no_manage_scope_for_a_team_token_or_a_non_admin(self, tenant):
        body = {"name": "x", "scopes": ["manage"], "team": "serving"}
        admin = tenant.client_for("admin")
        assert admin.post("/api/v1/tokens/", body, format="json").status_code == 400
        officer = tenant.client_for("esg_officer")
        assert (
            officer.post("/api/v1/tokens/", {**body, "team": None}, format="json").status_code
            == 403
        )
        assert not ApiToken.objects.filter(name="x").exists()

    def test_it_revokes_a_token_and_it_stops_authenticating(self, tenant):
        token, key = api_token_create(organisation=tenant.organisation, name="ci", scopes=["read"])
        response = tenant.manage_client().delete(f"/api/v1/tokens/{token.pk}/")
        assert response.status_code == 200
        assert response.json()["revoked_at"] is not None
        revoked = APIClient()
        revoked.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert revoked.get("/api/v1/teams/").status_code == 401
        assert last_event(tenant).action == "token.revoke"

    def test_another_organisations_tokens_are_not_found(self, tenant, outsider):
        theirs, _ = api_token_create(organisation=outsider.organisation, name="x", scopes=["read"])
        client = tenant.manage_client()
        assert client.get(f"/api/v1/tokens/{theirs.pk}/").status_code == 404
        assert client.delete(f"/api/v1/tokens/{theirs.pk}/").status_code == 404
        theirs.refresh_from_db()
        assert theirs.revoked_at is None
        assert theirs.prefix not in {t["prefix"] for t in client.get("/api/v1/tokens/").json()}
