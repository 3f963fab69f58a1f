import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from greenai_portal.errors import ApplicationError

URL = "/api/v1/footprint/?start=2026-01-01&end=2026-02-01"


@pytest.mark.django_db
class TestApiTokens:
    def test_it_stores_only_a_hash_of_the_key(self, tenant):
        token, key = api_token_create(organisation=tenant.organisation, name="ci", scopes=["read"])
        stored = ApiToken.objects.get(pk=token.pk)
        assert key not in (stored.prefix, stored.key_hash)
        assert stored.key_hash == tokens.hash_key(key)
        assert len(key) > 40

    def test_it_authenticates_and_records_last_use(self, tenant):
        client = tenant.token_client(scopes=("read",))
        assert client.get(URL).status_code == 200
        assert ApiToken.objects.get().last_used_at is not None

    def test_it_refuses_a_revoked_token(self, tenant):
        token, key = api_token_create(organisation=tenant.organisation, name="x", scopes=["read"])
        api_token_revoke(token=token)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get(URL).status_code == 401

    def test_it_refuses_a_forged_key_with_a_real_prefix(self, tenant):
        _, key = api_token_create(organisation=tenant.organisation, name="x", scopes=["read"])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key[:-4]}AAAA")
        assert client.get(URL).status_code == 401

    def test_it_refuses_unknown_scopes(self, tenant):
        with pytest.raises(ApplicationError):
            api_token_create(organisation=tenant.organisation, name="x", scopes=["admin"])

    def test_the_command_prints_a_working_key_once(self, tenant, capsys):
        call_command("create_api_token", org="acme", scopes="ingest,read", team="serving")
        key = capsys.readouterr().out.strip()
        token = ApiToken.objects.get()
        assert tokens.key_matches(key, token.key_hash)
        assert token.team == tenant.teams["serving"]
        assert token.scopes == ["ingest", "read"]
