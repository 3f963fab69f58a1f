"""The OpenAPI schema of the ingestion endpoints: valid, documented, with examples."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

INGESTION_PATHS = {
    "/api/v1/workloads/": "post",
    "/api/v1/cloud-usage/": "post",
    "/api/v1/llm-usage/": "post",
    "/api/v1/llm-models/": "post",
    "/api/v1/llm-models/{id}/": "patch",
    "/api/v1/hardware/": "get",
    "/api/v1/imports/": "post",
    "/api/v1/imports/{job_id}/": "get",
    "/api/v1/codecarbon/emissions/{key}/": "post",
    "/api/v1/codecarbon/emissions/": "post",
    "/api/v1/codecarbon/runs": "post",
    "/api/v1/codecarbon/emissions": "post",
}


@pytest.fixture(scope="module")
def schema():
    GENERATOR_STATS.reset()
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_validates_against_the_openapi_specification(schema):
    validate_schema(schema)


def test_the_ingestion_endpoints_generate_no_warnings():
    GENERATOR_STATS.reset()
    GENERATOR_STATS.enable_trace_lineno()
    SchemaGenerator().get_schema(request=None, public=True)
    ours = [
        message
        for message in (*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache)
        if "inventory/apis.py" in message
        or "inventory/ingestion" in message
        or "inventory/llm" in message
    ]
    assert ours == []


@pytest.mark.parametrize(("path", "method"), sorted(INGESTION_PATHS.items()))
def test_every_ingestion_endpoint_is_documented_with_examples(schema, path, method):
    operation = schema["paths"][path][method]
    assert operation.get("description"), path
    bodies = [
        *operation.get("requestBody", {}).get("content", {}).values(),
        *(c for r in operation["responses"].values() for c in r.get("content", {}).values()),
    ]
    assert any(body.get("examples") for body in bodies), path


def test_the_bulk_endpoints_accept_json_ndjson_and_csv(schema):
    content = schema["paths"]["/api/v1/workloads/"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-ndjson", "text/csv"}
    record = content["application/json"]["schema"]["oneOf"][0]
    assert record["properties"]["external_id"]["maxLength"] == 200
    assert "external_id" in record["required"]


def test_the_docs_page_is_served(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_the_records_declare_the_constraints_the_api_enforces(schema):
    content = schema["paths"]["/api/v1/workloads/"]["post"]["requestBody"]["content"]
    record = content["application/json"]["schema"]["oneOf"][0]
    fields = record["properties"]
    assert "ended_at must be after started_at" in record["description"]
    assert "ended_at must be after started_at" in fields["ended_at"]["description"]
    assert "from 2000-01-01" in fields["started_at"]["description"]
    # whole numbers fit a 64-bit column: 2^63 - 1 = 9223372036854775807
    assert (fields["tokens"]["minimum"], fields["tokens"]["maximum"]) == (0, 9223372036854775807)
    usage = schema["paths"]["/api/v1/cloud-usage/"]["post"]["requestBody"]["content"]
    usage_record = usage["application/json"]["schema"]["oneOf"][0]
    assert (
        "usage_end must be after usage_start"
        in usage_record["properties"]["usage_end"]["description"]
    )
