"""Configuring Prometheus sources over the API: admins write, members read, tokens stay secret."""

import json

import pytest

from accounts.models import AuditEvent, Role
from inventory.models import Location, PrometheusSource

URL = "/api/v1/prometheus-sources/"
SECRET = "s3cret-bearer-token"


def _create(client, **overrides):
    body = {
        "name": "gpu cluster",
        "url": "https://prometheus.example:9090",
        "bearer_token": SECRET,
        "location": "lab-paris",
        "hardware_by_gpu_model": {"NVIDIA A100-SXM4-80GB": "nvidia-a100-80gb"},
        **overrides,
    }
    return client.post(URL, body, format="json")


@pytest.fixture
def admin(tenant):
    return tenant.client_for(Role.ADMIN)


class TestCreate:
    def test_it_stores_the_source_and_never_shows_its_token(self, tenant, admin):
        response = _create(admin)

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["has_bearer_token"] is True
        assert body["location"] == "lab-paris"
        assert body["pulled_until"] is None
        assert SECRET not in response.content.decode()
        source = PrometheusSource.objects.get(organisation=tenant.organisation)
        assert source.bearer_token == SECRET
        event = AuditEvent.objects.get(action="prometheus_source.create")
        assert SECRET not in json.dumps(event.details)
        assert SECRET not in admin.get(URL).content.decode()

    def test_it_refuses_members_without_manage_access(self, tenant):
        response = _create(tenant.client_for(Role.ENGINEER))

        assert response.status_code == 403
        assert not PrometheusSource.objects.exists()

    def test_it_needs_one_of_the_organisations_facilities(self, admin):
        response = _create(admin, location="aws:eu-west-3")

        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "location"

    def test_it_names_unknown_hardware(self, admin):
        response = _create(admin, hardware_by_gpu_model={"Mystery GPU": "nvidia-x9000"})

        assert response.status_code == 400
        assert "nvidia-x9000" in response.json()["errors"][0]["message"]

    def test_it_refuses_a_second_source_of_the_same_name(self, admin):
        _create(admin)

        assert _create(admin).status_code == 400
        assert PrometheusSource.objects.count() == 1

    def test_it_refuses_a_url_that_is_not_one(self, admin):
        assert _create(admin, url="not a url").status_code == 400


class TestChange:
    def test_a_change_without_a_token_keeps_it_and_an_empty_one_removes_it(self, admin):
        source_url = f"{URL}{_create(admin).json()['id']}/"

        kept = admin.patch(source_url, {"enabled": False}, format="json")
        removed = admin.patch(source_url, {"bearer_token": ""}, format="json")

        assert kept.status_code == 200 and kept.json()["has_bearer_token"] is True
        assert kept.json()["enabled"] is False
        assert removed.json()["has_bearer_token"] is False
        assert PrometheusSource.objects.get().bearer_token == ""

    def test_deleting_it_leaves_an_audit_event(self, admin):
        source_id = _create(admin).json()["id"]

        assert admin.delete(f"{URL}{source_id}/").status_code == 204
        assert not PrometheusSource.objects.exists()
        assert AuditEvent.objects.filter(action="prometheus_source.delete").exists()


class TestOtherTenants:
    def test_another_organisations_source_does_not_exist_here(self, tenant, outsider, admin):
        source_id = _create(admin).json()["id"]
        stranger = outsider.client_for(Role.ADMIN)

        assert stranger.get(f"{URL}{source_id}/").status_code == 404
        assert (
            stranger.patch(f"{URL}{source_id}/", {"enabled": False}, format="json").status_code
            == 404
        )
        assert stranger.delete(f"{URL}{source_id}/").status_code == 404
        assert stranger.get(URL).json() == []
        assert PrometheusSource.objects.get().enabled is True

    def test_it_cannot_use_another_organisations_facility(self, tenant, outsider, admin):
        Location.objects.create(
            organisation=outsider.organisation,
            code="globex-dc",
            name="Globex",
            kind="owned",
            zone="FR",
        )

        assert _create(admin, location="globex-dc").status_code == 400
