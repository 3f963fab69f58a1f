"""A record's content hash is SHA-256 of `json.dumps(sort_keys=True)` of its content fields,
byte for byte, whichever encoder wrote it: stored hashes decide duplicates and conflicts of
re-sent records and feed locked reports' input hashes, so they may never change."""

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.ingestion.fields import MISSING, ContentFields
from inventory.ingestion.schemas import CLOUD_USAGE, WORKLOAD
from inventory.ingestion.services import content_hash

WORKLOAD_FIELDS = WORKLOAD.content_fields
CLOUD_USAGE_FIELDS = CLOUD_USAGE.content_fields

RECORD = {
    "team": "research",
    "model": "llama-7b",
    "phase": "training",
    "started_at": datetime(2026, 1, 10, 8, tzinfo=UTC),
    "ended_at": datetime(2026, 1, 10, 9, 30, tzinfo=UTC),
    "location": "aws:us-east-1",
    "hardware": "nvidia-h100-sxm",
    "device_count": 8,
    "energy_kwh": 12.5,
    "utilization": 0.75,
    "energy_includes_pue": False,
    "tags": {"project": "atlas", "cost_centre": "r&d"},
}


def reference_hash(record: dict, fields) -> str:
    canonical = {
        field: value.isoformat() if isinstance(value, datetime) else value
        for field, value in ((field, record.get(field)) for field in fields)
    }
    return hashlib.sha256(
        json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def test_a_record_keeps_the_hash_earlier_releases_stored():
    # Figures from the release before msgspec wrote the canonical JSON.
    assert content_hash(RECORD, WORKLOAD_FIELDS) == (
        "e652843840d30def51acc70ed1095ed1a4cb5dce584181f8b51a60c46490361c"
    )
    tiny_and_accented = {**RECORD, "energy_kwh": 3.2e-05, "tags": {"projet": "été"}}
    assert content_hash(tiny_and_accented, WORKLOAD_FIELDS) == (
        "752e706b25335361c58098126eb895e2139d6ce9684911658b4bd3d0a9c8841b"
    )


FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-4, 9.999999999999999e-05, 1e16, 9999999999999998.0, 5e-324]),
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    FLOATS,
    st.text(max_size=30),
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    ),
)
TAGS = st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=5)


@settings(max_examples=500, deadline=None)
@given(
    fields=st.sampled_from([WORKLOAD_FIELDS, CLOUD_USAGE_FIELDS]),
    values=st.lists(VALUES, min_size=20, max_size=20),
    tags=st.one_of(st.none(), TAGS),
)
def test_any_record_hashes_as_the_standard_library_writes_it(fields, values, tags):
    # The fields hashed for every record (those hashed only when given: the test below).
    record = dict(zip(fields.always, values, strict=False)) | {"tags": tags}
    assert content_hash(record, fields) == reference_hash(record, fields.always)


@settings(max_examples=300, deadline=None)
@given(kwh=FLOATS, text=st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=20))
def test_floats_and_ascii_control_characters_hash_as_python_writes_them(kwh, text):
    record = {**RECORD, "energy_kwh": kwh, "model": text}
    assert content_hash(record, WORKLOAD_FIELDS) == reference_hash(record, WORKLOAD_FIELDS.always)


def test_a_field_hashed_when_given_leaves_the_hash_of_records_without_it_unchanged():
    later = ContentFields(
        always=WORKLOAD_FIELDS.always, when_given=(("water_l", MISSING), ("region", ""))
    )
    before = content_hash(RECORD, WORKLOAD_FIELDS)
    assert content_hash(RECORD, later) == before
    # Its default counts as not given.
    assert content_hash({**RECORD, "region": ""}, later) == before
    given_water = {**RECORD, "water_l": 4.5}
    assert content_hash(given_water, later) == reference_hash(
        given_water, (*WORKLOAD_FIELDS.always, "water_l")
    )
