"""Per-token request rates on the ingestion endpoints."""

import uuid

import pytest

from inventory.ingestion.throttling import parse_rate
from tests.conftest import needs_services, workload

URL = "/api/v1/workloads/"


def test_it_reads_rates():
    assert parse_rate("600/min") == (600, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("100/hour") == (100, 3600)


@pytest.mark.django_db
class TestThrottling:
    def test_it_answers_429_with_retry_after_past_the_rate(self, tenant, settings):
        settings.GREENAI_THROTTLE_RATES = {**settings.GREENAI_THROTTLE_RATES, "ingest": "2/min"}
        client = tenant.token_client()
        codes = [
            client.post(URL, workload(external_id=f"j{i}"), format="json").status_code
            for i in range(3)
        ]
        assert codes == [201, 201, 429]
        response = client.post(URL, workload(external_id="j9"), format="json")
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
        assert "throttled" in response.json()["message"].lower()

    def test_it_counts_each_token_on_its_own(self, tenant, settings):
        settings.GREENAI_THROTTLE_RATES = {**settings.GREENAI_THROTTLE_RATES, "ingest": "1/min"}
        first, second = tenant.token_client(), tenant.token_client()
        assert first.post(URL, workload(external_id="a"), format="json").status_code == 201
        assert second.post(URL, workload(external_id="b"), format="json").status_code == 201
        assert first.post(URL, workload(external_id="c"), format="json").status_code == 429


def test_a_window_is_counted_in_redis_and_expires_with_it():
    needs_services()
    from inventory.ingestion import throttling

    key = f"greenai:throttle:test:{uuid.uuid4()}"
    assert [throttling._hit(key, 60) for _ in range(3)] == [1, 2, 3]
    assert 0 < throttling._redis().ttl(key) <= 61
    throttling._redis().delete(key)
