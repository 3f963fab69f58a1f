"""Bulk workload ingestion in every format, with every kind of bad input."""

import json

import pytest

from inventory.models import IngestBatch, WorkloadRecord
from tests.conftest import workload

URL = "/api/v1/workloads/"

CSV_HEADER = (
    "external_id,team,model,phase,started_at,ended_at,location,hardware,device_count,utilization"
)


def csv_body(*rows: str, header: str = CSV_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def csv_row(external_id: str = "job-1", **overrides) -> str:
    record = workload(external_id=external_id, **overrides)
    return ",".join(str(record.get(name, "")) for name in CSV_HEADER.split(","))


def send(client, body, content_type: str):
    return client.post(URL, body, content_type=content_type)


def ndjson(*records: dict) -> str:
    return "\n".join(json.dumps(r) for r in records) + "\n"


@pytest.mark.django_db
class TestFormats:
    def test_it_stores_ndjson(self, tenant):
        body = ndjson(*(workload(external_id=f"job-{i}") for i in range(3)))
        response = send(tenant.token_client(), body, "application/x-ndjson")
        assert response.status_code == 201
        assert response.json()["created"] == 3
        assert WorkloadRecord.objects.count() == 3

    def test_it_stores_csv_with_tag_columns_and_a_tags_column(self, tenant):
        header = CSV_HEADER + ",energy_kwh,tag:cluster,tags"
        body = csv_body(
            csv_row("job-1") + ',12.5,east,"{""owner"": ""ana""}"',
            csv_row("job-2") + ",,west,",
            header=header,
        )
        response = send(tenant.token_client(), body, "text/csv")
        assert response.status_code == 201, response.json()
        first = WorkloadRecord.objects.get(external_id="job-1")
        assert first.energy_kwh == 12.5
        assert first.device_count == 8
        assert first.tags == {"owner": "ana", "cluster": "east"}
        second = WorkloadRecord.objects.get(external_id="job-2")
        assert second.energy_kwh is None
        assert second.tags == {"cluster": "west"}

    def test_it_counts_the_same_record_sent_as_json_then_csv_as_a_duplicate(self, tenant):
        client = tenant.token_client()
        assert client.post(URL, workload(), format="json").status_code == 201
        response = send(client, csv_body(csv_row("job-1")), "text/csv")
        assert response.status_code == 200
        assert response.json()["duplicates"] == 1
        assert WorkloadRecord.objects.count() == 1

    def test_it_takes_offsets_and_stores_utc(self, tenant):
        record = workload(started_at="2026-01-10T02:00:00+02:00", ended_at="2026-01-10T10:00:00Z")
        tenant.token_client().post(URL, record, format="json")
        stored = WorkloadRecord.objects.get()
        assert stored.started_at.isoformat() == "2026-01-10T00:00:00+00:00"
        assert stored.duration_s == 36000.0

    def test_it_answers_a_batch_id_and_records_the_batch(self, tenant):
        body = [workload(external_id=f"job-{i}") for i in range(4)]
        response = tenant.token_client().post(URL, body, format="json")
        batch = IngestBatch.objects.get(pk=response.json()["batch_id"])
        assert (batch.received, batch.created, batch.duplicates) == (4, 4, 0)
        assert batch.organisation == tenant.organisation


@pytest.mark.django_db
class TestIdempotency:
    def test_it_stores_each_record_once_however_often_parts_are_resent(self, tenant):
        client = tenant.token_client()
        records = [workload(external_id=f"job-{i}") for i in range(10)]
        client.post(URL, records[:6], format="json")
        client.post(URL, records[3:], format="json")
        response = client.post(URL, records, format="json")
        assert response.status_code == 200
        assert response.json()["duplicates"] == 10
        assert WorkloadRecord.objects.count() == 10

    def test_it_counts_an_id_repeated_in_one_batch_once(self, tenant):
        body = [workload(), workload()]
        response = tenant.token_client().post(URL, body, format="json")
        assert response.json() == {
            "batch_id": response.json()["batch_id"],
            "received": 2,
            "created": 1,
            "duplicates": 1,
        }

    def test_it_reports_an_id_repeated_in_one_batch_with_other_content(self, tenant):
        body = [workload(), workload(device_count=4)]
        response = tenant.token_client().post(URL, body, format="json")
        assert response.status_code == 409
        assert response.json()["errors"][0]["row"] == 1
        assert WorkloadRecord.objects.count() == 0

    def test_it_stores_nothing_of_a_batch_with_one_conflict(self, tenant):
        client = tenant.token_client()
        client.post(URL, workload(external_id="old"), format="json")
        body = [workload(external_id="new"), workload(external_id="old", device_count=2)]
        response = client.post(URL, body, format="json")
        assert response.status_code == 409
        assert response.json()["errors"] == [
            {
                "row": 1,
                "field": "external_id",
                "message": "external_id 'old' was already sent with other content; "
                "send a new external_id for a new record",
            }
        ]
        assert list(WorkloadRecord.objects.values_list("external_id", flat=True)) == ["old"]


@pytest.mark.django_db
class TestBadInput:
    def errors(self, response) -> set[tuple]:
        return {(e.get("row"), e["field"]) for e in response.json().get("errors", [])}

    def test_it_names_bad_ndjson_lines(self, tenant):
        body = json.dumps(workload()) + "\n\n{oops\n"
        response = send(tenant.token_client(), body, "application/x-ndjson")
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["line"] == 3
        assert "Not valid JSON" in error["message"]

    def test_it_names_the_line_of_a_bad_csv_row(self, tenant):
        body = csv_body(csv_row("job-1"), csv_row("job-2", device_count="eight"))
        response = send(tenant.token_client(), body, "text/csv")
        assert response.status_code == 400
        assert response.json()["errors"] == [
            {
                "row": 1,
                "line": 3,
                "field": "device_count",
                "message": "Must be a whole number, not 'eight'",
            }
        ]
        assert WorkloadRecord.objects.count() == 0

    def test_it_refuses_a_csv_row_with_the_wrong_number_of_cells(self, tenant):
        body = csv_body(csv_row("job-1") + ",extra")
        response = send(tenant.token_client(), body, "text/csv")
        assert response.status_code == 400
        assert "header has 10 columns" in response.json()["errors"][0]["message"]

    def test_it_refuses_unknown_csv_columns_with_the_valid_ones(self, tenant):
        body = csv_body(csv_row("job-1") + ",1", header=CSV_HEADER + ",energy_kWh")
        response = send(tenant.token_client(), body, "text/csv")
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["field"] == "energy_kWh"
        assert "energy_kwh" in error["message"]

    def test_it_refuses_malformed_csv(self, tenant):
        body = csv_body(csv_row("job-1") + ',"unterminated')
        response = send(tenant.token_client(), body, "text/csv")
        assert response.status_code == 400
        assert "CSV" in response.json()["message"]

    def test_it_refuses_an_empty_csv(self, tenant):
        response = send(tenant.token_client(), "", "text/csv")
        assert response.status_code == 400

    def test_it_refuses_wrong_types(self, tenant):
        body = [
            workload(external_id="a", device_count="eight"),
            workload(external_id="b", started_at=1736467200),
            workload(external_id="c", tags=["x"]),
            workload(external_id="d", energy_includes_pue="maybe"),
            workload(external_id=42),
            "not an object",
        ]
        response = tenant.token_client().post(URL, body, format="json")
        assert response.status_code == 400
        assert self.errors(response) == {
            (0, "device_count"),
            (1, "started_at"),
            (2, "tags"),
            (3, "energy_includes_pue"),
            (4, "external_id"),
            (5, "non_field_errors"),
        }

    def test_it_refuses_zero_and_negative_durations(self, tenant):
        body = [
            workload(external_id="zero", ended_at="2026-01-10T00:00:00Z"),
            workload(external_id="negative", ended_at="2026-01-09T23:00:00Z"),
        ]
        response = tenant.token_client().post(URL, body, format="json")
        assert self.errors(response) == {(0, "ended_at"), (1, "ended_at")}

    def test_it_refuses_nan_and_infinity(self, tenant):
        body = '[{"external_id": "n", "team": "research", "phase": "training", ' + (
            '"started_at": "2026-01-10T00:00:00Z", "ended_at": "2026-01-10T01:00:00Z", '
            '"location": "lab-paris", "energy_kwh": NaN, "avg_power_w": Infinity}]'
        )
        response = tenant.token_client().post(URL, body, content_type="application/json")
        assert response.status_code == 400
        assert self.errors(response) == {(0, "energy_kwh"), (0, "avg_power_w")}
        assert "finite" in response.json()["errors"][0]["message"]

    def test_it_refuses_nan_in_csv(self, tenant):
        body = csv_body(csv_row("job-1") + ",nan", header=CSV_HEADER + ",utilization")
        response = send(tenant.token_client(), body, "text/csv")
        assert response.status_code == 400

    def test_it_refuses_over_length_strings(self, tenant):
        body = [workload(external_id="x" * 201), workload(external_id="m", model="m" * 161)]
        response = tenant.token_client().post(URL, body, format="json")
        assert self.errors(response) == {(0, "external_id"), (1, "model")}
        assert "At most 200 characters" in response.json()["errors"][0]["message"]

    def test_it_refuses_unknown_fields(self, tenant):
        response = tenant.token_client().post(URL, workload(energy_kWh=3), format="json")
        assert response.status_code == 400
        assert self.errors(response) == {(0, "energy_kWh")}

    def test_it_refuses_a_missing_required_field(self, tenant):
        response = tenant.token_client().post(URL, workload(phase=None), format="json")
        assert self.errors(response) == {(0, "phase")}

    def test_it_refuses_an_unknown_phase_with_the_choices(self, tenant):
        response = tenant.token_client().post(URL, workload(phase="pretraining"), format="json")
        assert "training" in response.json()["errors"][0]["message"]

    def test_it_refuses_a_scalar_json_body(self, tenant):
        response = tenant.token_client().post(URL, "42", content_type="application/json")
        assert response.status_code == 400

    def test_it_refuses_an_empty_array(self, tenant):
        response = tenant.token_client().post(URL, [], format="json")
        assert response.status_code == 400

    def test_it_refuses_other_content_types_with_415(self, tenant):
        response = send(tenant.token_client(), "external_id=1", "text/plain")
        assert response.status_code == 415
        assert "text/csv" in response.json()["message"]

    def test_it_refuses_a_body_over_the_size_limit_with_413(self, tenant, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        body = [workload(external_id=f"job-{i}") for i in range(20)]
        response = tenant.token_client().post(URL, body, format="json")
        assert response.status_code == 413
        assert "1000 bytes" in response.json()["message"]
        assert WorkloadRecord.objects.count() == 0

    def test_it_refuses_a_batch_over_the_record_limit_with_413(self, tenant, settings):
        settings.GREENAI_MAX_BATCH_RECORDS = 3
        body = ndjson(*(workload(external_id=f"job-{i}") for i in range(4)))
        response = send(tenant.token_client(), body, "application/x-ndjson")
        assert response.status_code == 413
        assert "at most 3 records" in response.json()["message"]

    def test_it_keeps_the_error_list_short_for_huge_bad_batches(self, tenant, settings):
        body = [workload(external_id=f"job-{i}", device_count="y", phase="x") for i in range(600)]
        response = tenant.token_client().post(URL, body, format="json")
        assert response.status_code == 400
        assert len(response.json()["errors"]) == 1000
        assert "200 more errors not shown" in response.json()["message"]


def test_a_nul_in_an_error_s_field_name_or_message_is_kept_escaped():
    from inventory.ingestion.fields import RowErrors

    errors = RowErrors()
    errors.add(0, "col\x00umn", "Unknown column 'a\x00b'")
    assert errors.errors == [
        {"row": 0, "field": "col\\x00umn", "message": "Unknown column 'a\\x00b'"}
    ]
