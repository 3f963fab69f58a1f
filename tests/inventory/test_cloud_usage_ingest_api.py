"""Cloud usage records (billing lines) through the bulk endpoint."""

import pytest

from inventory.models import CloudUsageRecord
from inventory.pipeline import records_compute

URL = "/api/v1/cloud-usage/"


def usage(**overrides) -> dict:
    record = {
        "external_id": "cur-1",
        "team": "research",
        "location": "aws:us-east-1",
        "service": "AmazonEC2",
        "usage_kind": "compute",
        "quantity": 96.0,
        "hardware": "intel-skylake",
        "usage_start": "2026-01-10T00:00:00Z",
        "usage_end": "2026-01-11T00:00:00Z",
        "cost": 12.5,
        "currency": "USD",
        "tags": {"env": "prod"},
    }
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not None}


@pytest.mark.django_db
class TestCloudUsageIngest:
    def test_it_stores_a_usage_record_pending_computation(self, tenant):
        response = tenant.token_client().post(URL, usage(), format="json")
        assert response.status_code == 201, response.json()
        record = CloudUsageRecord.objects.get()
        assert record.organisation == tenant.organisation
        assert (record.usage_kind, record.quantity, record.hardware.code) == (
            "compute",
            96.0,
            "intel-skylake",
        )
        assert record.location.code == "aws:us-east-1"
        assert record.activity_date.isoformat() == "2026-01-10"
        assert record.tags == {"env": "prod"}
        assert record.batch.source == "api"

    def test_it_stores_csv_and_counts_resent_rows_as_duplicates(self, tenant):
        body = (
            "external_id,team,location,service,usage_kind,quantity,replication,usage_start,"
            "usage_end,tag:bucket\n"
            "gcs-1,research,gcp:europe-west4,Cloud Storage,storage_hdd,720,2,"
            "2026-01-10T00:00:00Z,2026-01-11T00:00:00Z,logs\n"
            "gcs-2,serving,gcp:europe-west4,Cloud Storage,storage_ssd,10,,"
            "2026-01-10T00:00:00Z,2026-01-11T00:00:00Z,\n"
        )
        client = tenant.token_client()
        assert client.post(URL, body, content_type="text/csv").json()["created"] == 2
        again = client.post(URL, body, content_type="text/csv")
        assert again.status_code == 200
        assert again.json()["duplicates"] == 2
        first = CloudUsageRecord.objects.get(external_id="gcs-1")
        assert (first.replication, first.tags, first.hardware) == (2.0, {"bucket": "logs"}, None)

    @pytest.mark.usefixtures("eager_celery")
    def test_it_keeps_the_instance_type_and_amortises_its_platform(self, tenant):
        body = [
            usage(external_id="m5", instance_type="m5.large", quantity=48.0),
            usage(external_id="plain", quantity=48.0),
        ]
        client = tenant.token_client()
        assert client.post(URL, body, format="json").status_code == 201
        records_compute()
        m5, plain = (CloudUsageRecord.objects.get(external_id=i) for i in ("m5", "plain"))
        # m5.large for 24 h = 48 vCPU-h; CCF's m5 platform 1610.79 kg over m5.24xlarge's 96
        # vCPUs and 35,040 h: 1610.79 / 35040 × 48 / 96 = 0.02298502 kg
        assert (m5.instance_type, m5.instance_embodied.instance_type) == ("m5.large", "m5.large")
        assert m5.embodied_kg == pytest.approx(0.02298502, rel=1e-6)
        # Without a type there is no figure (not available, never 0).
        assert (plain.instance_type, plain.embodied_kg) == ("", None)
        # The type describes the line without being part of its content (importers derive it
        # from the usage type): a line stored without it, re-sent with it, is a duplicate.
        again = usage(external_id="plain", instance_type="m5.large", quantity=48.0)
        response = client.post(URL, again, format="json")
        assert (response.status_code, response.json()["duplicates"]) == (200, 1)
        assert CloudUsageRecord.objects.get(external_id="plain").instance_type == ""

    def test_it_refuses_an_instance_type_longer_than_an_instance_name(self, tenant):
        response = tenant.token_client().post(URL, usage(instance_type="m" * 61), format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "instance_type"

    def test_it_reports_a_resent_id_with_other_content(self, tenant):
        client = tenant.token_client()
        client.post(URL, usage(), format="json")
        response = client.post(URL, usage(quantity=97), format="json")
        assert response.status_code == 409

    def test_it_needs_the_gpu_for_gpu_hours(self, tenant):
        response = tenant.token_client().post(
            URL, usage(usage_kind="gpu", hardware=None), format="json"
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "hardware"

    def test_it_refuses_hardware_of_the_wrong_kind(self, tenant):
        body = [
            usage(external_id="a", usage_kind="gpu", hardware="intel-skylake"),
            usage(external_id="b", usage_kind="memory", hardware="nvidia-a100-40gb"),
        ]
        response = tenant.token_client().post(URL, body, format="json")
        assert response.status_code == 400
        assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [
            (0, "hardware"),
            (1, "hardware"),
        ]

    def test_it_refuses_bad_values_naming_each(self, tenant):
        body = [
            usage(external_id="a", usage_kind="disk"),
            usage(external_id="b", quantity=-1),
            usage(external_id="c", currency="dollars"),
            usage(external_id="d", usage_end="2026-01-09T00:00:00Z"),
            usage(external_id="e", location="aws:mars-1"),
        ]
        response = tenant.token_client().post(URL, body, format="json")
        assert response.status_code == 400
        assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {
            (0, "usage_kind"),
            (1, "quantity"),
            (2, "currency"),
            (3, "usage_end"),
            (4, "location"),  # a reference, named with the bad values
        }
        assert CloudUsageRecord.objects.count() == 0

    def test_it_names_unknown_regions_after_the_values_pass(self, tenant):
        response = tenant.token_client().post(URL, usage(location="aws:mars-1"), format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "location"

    def test_it_keeps_ids_per_organisation(self, tenant, outsider):
        tenant.token_client().post(URL, usage(), format="json")
        response = outsider.token_client().post(URL, usage(quantity=1), format="json")
        assert response.status_code == 201
        assert CloudUsageRecord.objects.count() == 2
