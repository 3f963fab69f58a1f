"""Hostile request bodies: oversize, deeply nested, not UTF-8, NUL characters, absurd numbers.

Every one must get a clean 4xx in the API's error shape ({"message", "errors"?}) and store
nothing; never a 500. Each body is sent to every endpoint that takes one (found from the URL
resolver), so new endpoints are covered too.
"""

import json

import pytest
from django.test import override_settings

from inventory.models import IngestBatch, WorkloadRecord
from tests.conftest import workload
from tests.hardening.discovery import routes

pytestmark = pytest.mark.django_db

# Every API operation that takes a body, with the key in the path filled by the test.
BODY_ROUTES = sorted(
    {
        route.path({"key": "KEY"})
        for route in routes()
        if route.is_api and "POST" in route.api_methods()
    }
)
RECORD_ROUTES = ["/api/v1/workloads/", "/api/v1/cloud-usage/"]
# Every field of these is optional: an empty body is a valid request.
EMPTY_IS_VALID = {"/api/v1/recalculations/"}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


HOSTILE_JSON = {
    "deeply nested array": nested(20_000),
    "deeply nested object": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    "not UTF-8": b'{"external_id": "\xff\xfe\xfa"}',
    "truncated": b'[{"external_id": "x"',
    "a bare string": b'"just a string"',
    "a huge number": b'{"external_id": "x", "device_count": 1' + b"0" * 5000 + b"}",
    "NaN": b'{"external_id": "x", "energy_kwh": NaN}',
    "Infinity": b'{"external_id": "x", "energy_kwh": -Infinity}',
    "empty": b"",
    "NUL bytes": b'{"external_id": "\x00"}',
}


@pytest.fixture
def client(tenant):
    client = tenant.token_client(scopes=("ingest", "read"))
    client.key = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    return client


@pytest.fixture
def codecarbon_client(tenant):
    """A token limited to one team: CodeCarbon runs need no mapping rule then."""
    client = tenant.token_client(scopes=("ingest",), team="research")
    client.key = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    return client


def codecarbon_post(client, **fields):
    payload = {
        "run_id": "r1",
        "timestamp": "2026-01-04T12:00:00",
        "duration": 60.0,
        "energy_consumed": 0.1,
        "country_iso_code": "FRA",
        "project_name": "p",
        **fields,
    }
    # json.dumps escapes what UTF-8 cannot hold (a lone surrogate), as a client would
    body = json.dumps(payload).encode()
    return _post(client, "/api/v1/codecarbon/emissions/KEY/", body, "application/json")


def test_a_valid_codecarbon_post_is_stored(codecarbon_client):
    # The baseline of the two bugs below: the same body without the hostile value is a 201.
    response = codecarbon_post(codecarbon_client)
    assert response.status_code == 201, response.content[:300]


def _post(client, path: str, body: bytes, content_type: str):
    return client.generic("POST", path.replace("KEY", client.key), body, content_type)


def _assert_clean_4xx(response, what: str) -> None:
    assert 400 <= response.status_code < 500, (what, response.status_code, response.content[:300])
    body = response.json()
    assert isinstance(body.get("message"), str) and body["message"], (what, body)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        pytest.param(name, path, id=f"{name}-{path}")
        for name in sorted(HOSTILE_JSON)
        for path in BODY_ROUTES
    ],
)
def test_hostile_json_gets_a_clean_4xx_and_stores_nothing(client, tenant, path, name):
    if path == "/api/v1/imports/":
        pytest.skip("multipart only: a JSON body is a 415, checked below")
    if "/codecarbon/" not in path:
        # An admin may do everything, so the body is parsed rather than refused unread (403).
        admin = tenant.client_for("admin")
        admin.key = client.key
        client = admin
    response = _post(client, path, HOSTILE_JSON[name], "application/json")
    if name == "empty" and path in EMPTY_IS_VALID:
        assert response.status_code == 202
        return
    _assert_clean_4xx(response, f"{name} → {path}")
    assert WorkloadRecord.objects.count() == 0


@pytest.mark.parametrize("path", RECORD_ROUTES)
@pytest.mark.parametrize(
    ("name", "body", "content_type"),
    [
        ("CSV not UTF-8", b"external_id,team\n\xff\xfe,research\n", "text/csv"),
        ("CSV with a NUL", b"external_id,team\nx\x00y,research\n", "text/csv"),
        ("CSV unclosed quote", b'external_id,team\n"x,research\n', "text/csv"),
        ("CSV only a header", b"external_id,team\n", "text/csv"),
        ("CSV 10k columns", (",".join(f"c{i}" for i in range(10_000)) + "\n").encode(), "text/csv"),
        ("NDJSON not UTF-8", b'{"external_id": "a"}\n\xff\n', "application/x-ndjson"),
        ("NDJSON deeply nested", nested(20_000) + b"\n", "application/x-ndjson"),
        ("XML", b"<records><record/></records>", "application/xml"),
        ("form", b"external_id=x", "application/x-www-form-urlencoded"),
    ],
)
def test_hostile_record_bodies_get_a_clean_4xx(client, path, name, body, content_type):
    response = _post(client, path, body, content_type)
    _assert_clean_4xx(response, f"{name} → {path}")
    assert IngestBatch.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    [*RECORD_ROUTES, "/api/v1/codecarbon/emissions/"],
)
def test_an_oversize_body_is_a_413_before_it_is_read(client, path):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000):
        body = json.dumps([workload(external_id=f"j-{i}") for i in range(200)]).encode()
        assert len(body) > 10_000
        response = _post(client, path, body, "application/json")
    assert response.status_code == 413, response.content[:300]
    assert "limit" in response.json()["message"]


def test_a_batch_over_the_record_limit_is_a_413(client):
    with override_settings(GREENAI_MAX_BATCH_RECORDS=10):
        body = [workload(external_id=f"j-{i}") for i in range(11)]
        response = client.post("/api/v1/workloads/", body, format="json")
    assert response.status_code == 413
    assert WorkloadRecord.objects.count() == 0


def test_an_upload_that_is_not_multipart_is_a_415(client):
    response = _post(client, "/api/v1/imports/", b'{"file": "x"}', "application/json")
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("external_id", "job\x00one"),
        ("model", "atlas\x00"),
        ("tags", {"cluster": "p5\x00east"}),
        ("tags", {"clu\x00ster": "p5"}),
    ],
)
def test_a_nul_character_in_a_record_is_a_400_naming_the_field(client, field, value):
    response = client.post(
        "/api/v1/workloads/", [workload(**{field: value}, avg_power_w=100.0)], format="json"
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["errors"][0]["field"] == field


def test_a_nul_character_in_codecarbon_metadata_is_a_400(codecarbon_client):
    response = codecarbon_post(codecarbon_client, codecarbon_version="3.\x00")
    assert response.status_code == 400, response.content[:300]


def test_an_absurd_codecarbon_duration_is_a_400(codecarbon_client):
    response = codecarbon_post(codecarbon_client, duration=1e20)
    assert response.status_code == 400, response.content[:300]


def test_absurd_numbers_in_records_are_400s_naming_the_field(client):
    for field, value in (
        ("device_count", 10**30),
        ("energy_kwh", "1e400"),  # infinity once parsed
        ("utilization", -0.1),
        ("inferences", -1),
        ("started_at", "99999-01-01T00:00:00Z"),
    ):
        body = json.dumps([workload(**{field: value})]).replace('"1e400"', "1e400")
        response = _post(client, "/api/v1/workloads/", body.encode(), "application/json")
        assert response.status_code == 400, (field, response.content[:300])
        assert {e["field"] for e in response.json()["errors"]} == {field}
        assert WorkloadRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "record"),
    [
        ("/api/v1/workloads/", workload(energy_kwh=1e308, avg_power_w=None)),
        (
            "/api/v1/cloud-usage/",
            {
                "external_id": "cu-1",
                "team": "research",
                "location": "aws:us-east-1",
                "service": "AmazonS3",
                "usage_kind": "network",
                "quantity": 1e308,
                "usage_start": "2026-01-01T00:00:00Z",
                "usage_end": "2026-01-02T00:00:00Z",
            },
        ),
    ],
)
def test_an_absurd_energy_or_quantity_is_refused_at_ingestion(client, path, record):
    response = client.post(path, [record], format="json")
    assert response.status_code == 400, response.content[:300]


CLOUD_USAGE = {
    "external_id": "cu-1",
    "team": "research",
    "location": "aws:us-east-1",
    "service": "AmazonS3",
    "usage_kind": "network",
    "quantity": 10.0,
    "usage_start": "2026-01-01T00:00:00Z",
    "usage_end": "2026-01-02T00:00:00Z",
}
LONE_SURROGATE = "\ud800"


def _with_lone_surrogates(record: dict) -> list[tuple[str, bytes]]:
    """(field, JSON body) for each string of a valid record given a lone surrogate (which
    JSON can escape but UTF-8 cannot hold), and for a tag's name and value."""
    bodies = []
    for field, value in [*record.items(), ("tags", {"k": "v"})]:
        if field == "tags":
            changes = [{"k": LONE_SURROGATE}, {LONE_SURROGATE: "v"}]
        elif isinstance(value, str):
            changes = [value + LONE_SURROGATE]
        else:
            continue
        for change in changes:
            bodies.append((field, json.dumps({**record, field: change}).encode()))
    return bodies


@pytest.mark.parametrize(
    ("path", "field", "body"),
    [
        pytest.param(path, field, body, id=f"{path}-{field}-{index}")
        for path, record in (
            ("/api/v1/workloads/", workload()),
            ("/api/v1/cloud-usage/", CLOUD_USAGE),
        )
        for index, (field, body) in enumerate(_with_lone_surrogates(record))
    ],
)
def test_a_lone_surrogate_in_any_string_of_a_record_is_a_400(client, path, field, body):
    response = _post(client, path, body, "application/json")
    _assert_clean_4xx(response, f"{field} → {path}")
    assert IngestBatch.objects.count() == 0


@pytest.mark.parametrize("path", RECORD_ROUTES)
def test_a_million_unknown_csv_columns_get_a_small_answer(client, path):
    header = ",".join(f"c{i}" for i in range(10**6)) + "\n"  # 6.9 MB, under the body limit
    response = _post(client, path, header.encode(), "text/csv")
    _assert_clean_4xx(response, path)
    # 10^6 unknown: the first 20 named, 10^6 - 20 = 999980 counted; the valid ones listed once
    assert "1000000 unknown column(s) (999980 not listed)" in response.json()["message"]
    assert len(response.json()["errors"]) == 20
    assert len(response.content) < 10_000


@pytest.mark.parametrize("field", ["run_id", "project_name", "codecarbon_version", "timestamp"])
def test_a_lone_surrogate_in_a_codecarbon_post_is_a_400(codecarbon_client, field):
    response = codecarbon_post(codecarbon_client, **{field: "x" + LONE_SURROGATE})
    _assert_clean_4xx(response, field)
    assert WorkloadRecord.objects.count() == 0


@pytest.mark.parametrize("field", ["inferences", "tokens", "device_count"])
@pytest.mark.parametrize("value", [2**63, 2**64, -(2**63) - 1, 10**40])
def test_a_whole_number_past_a_64_bit_column_is_a_400_naming_it(client, field, value):
    response = client.post("/api/v1/workloads/", [workload(**{field: value})], format="json")
    assert response.status_code == 400, response.content[:300]
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_the_largest_64_bit_count_is_stored(client):
    # 2^63 - 1 = 9223372036854775807, the top of a bigint column
    response = client.post("/api/v1/workloads/", [workload(tokens=2**63 - 1)], format="json")
    assert response.status_code == 201, response.content[:300]
    assert WorkloadRecord.objects.get().tokens == 9223372036854775807


@pytest.mark.parametrize("cell", ["+-1", "\u00b2", "9" * 5000, "1" + "0" * 19])
def test_a_csv_count_python_cannot_read_or_a_column_cannot_hold_is_a_400(client, cell):
    body = (
        "external_id,team,phase,started_at,ended_at,location,energy_kwh,tokens\n"
        f"j1,research,training,2026-01-10T00:00:00Z,2026-01-10T01:00:00Z,lab-paris,1,{cell}\n"
    )
    response = _post(client, "/api/v1/workloads/", body.encode(), "text/csv")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["errors"][0]
    assert (error["line"], error["field"]) == (2, "tokens")
    assert len(error["message"]) < 120  # the 5000 digits are not echoed back


@pytest.mark.parametrize(
    ("started_at", "message"),
    [
        ("1999-12-31T23:59:59Z", "Must be in 2000 or later"),
        ("0001-01-01T00:00:00+01:00", "Not an ISO 8601 date-time"),  # before year 1 in UTC
        ("9999-12-31T23:00:00-05:00", "Not an ISO 8601 date-time"),  # after 9999 in UTC
    ],
)
def test_a_moment_before_2000_or_past_the_calendar_in_utc_is_a_400(client, started_at, message):
    response = client.post("/api/v1/workloads/", [workload(started_at=started_at)], format="json")
    assert response.status_code == 400, response.content[:300]
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors["started_at"].startswith(message)
