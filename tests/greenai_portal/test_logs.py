"""API keys never reach a log: 4xx and 5xx on CodeCarbon's routes, key in path, query or header."""

import logging

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

import inventory.ingestion.codecarbon
from accounts.services import api_token_create
from greenai_portal.logs import (
    JsonFormatter,
    PlainFormatter,
    RedactingExceptionReporter,
    RedactKeysFilter,
)

BODY = {"run_id": "r1", "timestamp": "2026-01-10T12:00:00", "duration": 60}


def key_for(tenant, scopes=("ingest",)) -> str:
    return api_token_create(
        organisation=tenant.organisation, name="cc", scopes=scopes, team=tenant.teams["research"]
    )[1]


def secret_parts(key: str) -> list[str]:
    """The key and its random tail: neither may appear anywhere in a record."""
    return [key, key.split("_", 2)[2]]


def assert_no_key(records: list[logging.LogRecord], key: str) -> None:
    assert records, "the request logged nothing: the test proves nothing"
    formatters = (PlainFormatter(), JsonFormatter())
    for record in records:
        texts = [record.getMessage(), repr(record.args)]
        texts += [str(value) for value in vars(record).values()]
        texts += [formatter.format(record) for formatter in formatters]
        for part in secret_parts(key):
            assert not any(part in text for text in texts), record.getMessage()


@pytest.fixture
def client() -> APIClient:
    return APIClient(raise_request_exception=False)


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.mark.django_db
class TestKeysAreRedacted:
    def test_it_redacts_a_key_in_the_path_on_a_403(self, tenant, client, all_logs):
        key = key_for(tenant, scopes=("read",))
        response = client.post(f"/api/v1/codecarbon/emissions/{key}/", BODY, format="json")
        assert response.status_code == 403
        assert_no_key(all_logs.records, key)
        assert "/api/v1/codecarbon/emissions/[redacted]/" in all_logs.text

    def test_it_redacts_an_unknown_key_in_the_query_on_a_401(self, tenant, client, all_logs):
        key = "gai_0123456789ab_not-a-real-key-but-still-a-secret"
        response = client.post(f"/api/v1/codecarbon/emissions/?key={key}", BODY, format="json")
        assert response.status_code == 401
        assert_no_key(all_logs.records, key)

    def test_it_redacts_a_key_in_the_path_on_a_400(self, tenant, client, all_logs):
        key = key_for(tenant)
        response = client.post(f"/api/v1/codecarbon/emissions/{key}/", [1], format="json")
        assert response.status_code == 400
        assert_no_key(all_logs.records, key)

    def test_it_redacts_a_key_on_a_500_with_its_traceback(
        self, tenant, client, all_logs, monkeypatch
    ):
        key = key_for(tenant)

        def fails(schema, payload):
            raise RuntimeError(f"failed for /api/v1/codecarbon/emissions/{key}/")

        monkeypatch.setattr(inventory.ingestion.codecarbon, "_validated", fails)
        response = client.post(f"/api/v1/codecarbon/emissions/?key={key}", BODY, format="json")
        assert response.status_code == 500
        errors = [r for r in all_logs.records if r.levelno == logging.ERROR]
        assert errors and "RuntimeError: failed for" in errors[0].exc_text
        assert_no_key(all_logs.records, key)

    def test_it_redacts_runserver_and_gunicorn_access_lines(self, tenant, all_logs):
        key = key_for(tenant)
        line = f"POST /api/v1/codecarbon/emissions/{key}/ HTTP/1.1"
        logging.getLogger("django.server").info('"%s" %s %s', line, 404, 0)
        logging.getLogger("gunicorn.access").info("%(r)s %(s)s", {"r": line, "s": 404})
        assert_no_key(all_logs.records, key)
        assert len(all_logs.records) == 2


def test_the_error_report_redacts_path_query_and_header():
    key = "gai_0123456789ab_SecretTail-abc"
    request = RequestFactory().post(
        f"/api/v1/codecarbon/emissions/{key}/?key={key}", HTTP_X_API_TOKEN=key
    )
    try:
        raise ValueError("boom")
    except ValueError as error:
        reporter = RedactingExceptionReporter(request, type(error), error, error.__traceback__)
        html, text = reporter.get_traceback_html(), reporter.get_traceback_text()
    for part in secret_parts(key):
        assert part not in html and part not in text
    assert "boom" in text


def test_the_filter_leaves_a_record_without_keys_as_it_was():
    record = logging.LogRecord("x", logging.INFO, "f", 1, "stored %d records", (3,), None)
    assert RedactKeysFilter().filter(record)
    assert record.getMessage() == "stored 3 records"


def test_a_malformed_call_is_redacted_not_raised():
    key = "gai_0123456789ab_SecretTail-abc"
    record = logging.LogRecord("x", logging.INFO, "f", 1, "key %s and %d", (key,), None)
    assert RedactKeysFilter().filter(record)
    assert key not in record.getMessage() and "[redacted]" in record.getMessage()
