"""Hostile input through the API's own contract: schemathesis over every operation of /api/schema/.

Every operation the schema documents (so every new endpoint, as soon as it is in the schema) is
called with generated valid and invalid requests, authenticated with a real API token (scopes
ingest and read) of an organisation that has data. Checked on every response: never a 5xx,
the documented content type, and a body that matches the documented schema; and a status the
schema documents.

Two tests below guard what the fuzzer meets only by chance: every operation documents the error
statuses it can answer, and a row-less error (a bad CSV header) matches the documented shape.
"""

import os
import re
from collections.abc import Iterator

import jsonschema
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_create
from tests.hardening.discovery import HTTP_METHODS, openapi_path, routes
from tests.hardening.world import build_org, module_transaction

pytestmark = pytest.mark.django_db

# Examples per operation (about 25 operations): about a minute or two on a loaded CI machine.
# Derandomized, so CI is repeatable; GREENAI_FUZZ_EXAMPLES=500 GREENAI_FUZZ_RANDOM=1 explores.
EXAMPLES = int(os.environ.get("GREENAI_FUZZ_EXAMPLES", "20"))
DERANDOMIZE = os.environ.get("GREENAI_FUZZ_RANDOM") != "1"

# Loaded at collection, from the running code: new endpoints are fuzzed as soon as they exist.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
RAW_SCHEMA = schema.raw_schema
OPERATIONS = sorted(
    (method.upper(), path, op)
    for path, item in RAW_SCHEMA["paths"].items()
    for method, op in item.items()
    if method in HTTP_METHODS
)
OPERATION_IDS = [f"{method} {path}" for method, path, _ in OPERATIONS]


def statuses_an_operation_can_answer(op: dict) -> set[int]:
    """What any authenticated operation of this API can answer besides success: 401 and 403
    (the permission class), 400 with query parameters or a body (validation), 404 with an
    object id in the path (another organisation's objects are 404)."""
    codes = {401, 403}
    parameters = op.get("parameters", [])
    if "requestBody" in op or any(p["in"] == "query" for p in parameters):
        codes.add(400)
    if any(p["in"] == "path" and re.fullmatch(r"id|pk|\w+_id", p["name"]) for p in parameters):
        codes.add(404)
    # DRF answers an unknown ?format= with 404; a version parameter can name no version.
    if any(p["in"] == "query" and p["name"] in ("format", "version") for p in parameters):
        codes.add(404)
    if _body_names(op) & {"version"}:
        codes.add(404)
    return codes


def _body_names(op: dict) -> set[str]:
    names = set()
    for media in op.get("requestBody", {}).get("content", {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        component = RAW_SCHEMA["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
        names |= set(component.get("properties", {}))
    return names


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # As Django's test client does: the request signals must not close the test's connection
    # (its transaction holds the fixtures).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def _fuzz_org_token(django_db_setup, django_db_blocker) -> Iterator[str]:
    # Built once for the module's hundred-odd tests (it was once per generated operation);
    # each test runs in a savepoint of this transaction, so what a request changes is
    # rolled back before the next operation, which starts from the same organisation.
    with module_transaction(django_db_blocker):
        org = build_org("fuzz")
        _, key = api_token_create(
            organisation=org.tenant.organisation, name="fuzz", scopes=["ingest", "read"]
        )
        yield key


@pytest.fixture
def api_token(_fuzz_org_token, db) -> str:
    return _fuzz_org_token


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=DERANDOMIZE,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_contract_under_generated_input(case, api_token):
    response = case.call(headers={"Authorization": f"Token {api_token}"})
    assert response.status_code < 500, f"{case.operation.label}: {response.status_code}"
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def test_every_api_route_is_in_the_schema():
    documented = {(m, p) for m, p, _ in OPERATIONS}
    missing = [
        f"{method} {openapi_path(route)}"
        for route in routes()
        if route.is_api
        for method in route.api_methods()
        if (method, openapi_path(route)) not in documented
    ]
    assert not missing, f"API operations missing from /api/schema/: {missing}"


@pytest.mark.parametrize(
    ("method", "path", "op"),
    [
        pytest.param(*operation, id=label)
        for operation, label in zip(OPERATIONS, OPERATION_IDS, strict=True)
    ],
)
def test_every_operation_documents_the_errors_it_can_answer(method, path, op):
    documented = {int(code) for code in op["responses"] if code.isdigit()}
    missing = statuses_an_operation_can_answer(op) - documented
    assert not missing, f"{method} {path} does not document {sorted(missing)}"


def test_a_bad_csv_header_answers_the_documented_error_shape(api_token, client):
    response = client.post(
        "/api/v1/workloads/",
        "external_id,colour\nx,red\n",
        content_type="text/csv",
        HTTP_AUTHORIZATION=f"Token {api_token}",
    )
    assert response.status_code == 400
    error_schema = {**RAW_SCHEMA["components"]["schemas"]["Error"]}
    resolver = jsonschema.RefResolver.from_schema(RAW_SCHEMA)
    jsonschema.validate(response.json(), error_schema, resolver=resolver)


def test_the_schema_generates_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", "/dev/null")
