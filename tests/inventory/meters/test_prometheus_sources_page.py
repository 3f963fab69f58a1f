"""The settings page of the Prometheus sources."""

from accounts.models import Role
from inventory.models import PrometheusSource

PAGE = "/settings/prometheus-sources/"
SECRET = "s3cret-bearer-token"


def _post(client, **overrides):
    form = {
        "name": "gpu cluster",
        "url": "https://prometheus.example:9090",
        "bearer_token": SECRET,
        "location": "lab-paris",
        "hardware_by_gpu_model": "NVIDIA A100-SXM4-80GB = nvidia-a100-80gb\n",
        **overrides,
    }
    return client.post(f"{PAGE}create/", form, follow=True)


class TestPage:
    def test_an_admin_adds_a_source_whose_token_is_never_shown(self, tenant):
        admin = tenant.client_for(Role.ADMIN)

        response = _post(admin)

        assert response.status_code == 200
        source = PrometheusSource.objects.get(organisation=tenant.organisation)
        assert source.hardware_by_gpu_model == {"NVIDIA A100-SXM4-80GB": "nvidia-a100-80gb"}
        assert source.bearer_token == SECRET
        page = admin.get(PAGE).content.decode()
        assert "gpu cluster" in page and SECRET not in page

    def test_it_says_what_is_wrong_with_a_hardware_line(self, tenant):
        response = _post(tenant.client_for(Role.ADMIN), hardware_by_gpu_model="just a name")

        assert "model name = hardware code" in response.content.decode()
        assert not PrometheusSource.objects.exists()

    def test_members_read_it_without_the_form(self, tenant):
        _post(tenant.client_for(Role.ADMIN))

        page = tenant.client_for(Role.AUDITOR).get(PAGE).content.decode()

        assert "gpu cluster" in page and "Add a source" not in page

    def test_it_offers_only_the_organisations_own_facilities(self, tenant, outsider):
        _post(outsider.client_for(Role.ADMIN), name="globex cluster")

        page = tenant.client_for(Role.ADMIN).get(PAGE).content.decode()

        assert "globex cluster" not in page
        assert _post(tenant.client_for(Role.ADMIN), location="aws:eu-west-3").status_code == 200
        assert not PrometheusSource.objects.filter(organisation=tenant.organisation).exists()
