"""A record kind is declared once (inventory.ingestion.schemas): its content fields, which
decide duplicates and conflicts of re-sent records, come from that declaration. A field added
to a kind later must not change the hashes already stored."""

import dataclasses

import pytest

from inventory.apis import WorkloadIngestApi
from inventory.ingestion.fields import Field, number
from inventory.ingestion.schemas import CLOUD_USAGE, WORKLOAD
from inventory.ingestion.services import KIND_SPECS
from inventory.llm.schemas import LLM_USAGE
from tests.conftest import workload

URL = "/api/v1/workloads/"

# The fields hashed for every record since records were first stored. A field added to a kind
# since goes in with `hashed_when_given=True`; adding one here changes every stored hash.
FIRST_WORKLOAD_FIELDS = [
    "team",
    "model",
    "phase",
    "started_at",
    "ended_at",
    "location",
    "hardware",
    "device_count",
    "energy_kwh",
    "avg_power_w",
    "utilization",
    "pue",
    "energy_includes_pue",
    "inferences",
    "tokens",
    "tags",
]
FIRST_CLOUD_USAGE_FIELDS = [
    "team",
    "model",
    "location",
    "service",
    "usage_kind",
    "quantity",
    "hardware",
    "utilization",
    "replication",
    "usage_start",
    "usage_end",
    "cost",
    "currency",
    "tags",
]


FIRST_LLM_USAGE_FIELDS = [
    "team",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "requests",
    "latency_s",
    "started_at",
    "ended_at",
    "application",
    "ai_model",
]


def test_the_fields_hashed_for_every_record_are_those_first_stored():
    assert list(WORKLOAD.content_fields.always) == FIRST_WORKLOAD_FIELDS
    assert list(CLOUD_USAGE.content_fields.always) == FIRST_CLOUD_USAGE_FIELDS
    assert list(LLM_USAGE.content_fields.always) == FIRST_LLM_USAGE_FIELDS


def _with_field(monkeypatch, new_field: Field) -> None:
    """The workload kind as a later release declares it, with one more optional field."""
    later = dataclasses.replace(WORKLOAD, fields=(*WORKLOAD.fields, new_field))
    monkeypatch.setitem(
        KIND_SPECS, WORKLOAD.name, dataclasses.replace(KIND_SPECS["workload"], schema=later)
    )
    monkeypatch.setattr(WorkloadIngestApi, "record_schema", later)


@pytest.mark.django_db
def test_a_record_stored_before_a_field_was_added_is_a_duplicate_when_re_sent(tenant, monkeypatch):
    client = tenant.token_client()
    assert client.post(URL, workload(), content_type="application/json").status_code == 201

    _with_field(monkeypatch, Field("water_l", number(min_value=0), hashed_when_given=True))
    response = client.post(URL, workload(), content_type="application/json")

    assert response.status_code == 200
    assert (response.json()["created"], response.json()["duplicates"]) == (0, 1)


@pytest.mark.django_db
def test_a_re_sent_record_giving_the_new_field_is_a_conflict(tenant, monkeypatch):
    client = tenant.token_client()
    assert client.post(URL, workload(), content_type="application/json").status_code == 201

    _with_field(monkeypatch, Field("water_l", number(min_value=0), hashed_when_given=True))
    response = client.post(URL, workload(water_l=4.5), content_type="application/json")

    assert response.status_code == 409


@pytest.mark.django_db
def test_without_the_flag_the_added_field_would_turn_re_sends_into_conflicts(tenant, monkeypatch):
    # What the flag prevents: the new field, null, enters the hash of the re-sent record.
    client = tenant.token_client()
    assert client.post(URL, workload(), content_type="application/json").status_code == 201

    _with_field(monkeypatch, Field("water_l", number(min_value=0)))
    response = client.post(URL, workload(), content_type="application/json")

    assert response.status_code == 409


def test_a_field_importers_derive_from_hashed_content_is_never_hashed():
    # The instance type comes from the billing line's usage type (hashed through service,
    # hardware and quantity): files imported before importers kept it import again as
    # duplicates, whether the line now gives it or not.
    assert "instance_type" not in CLOUD_USAGE.content_fields.names
    assert "instance_type" in {field.name for field in CLOUD_USAGE.fields}
