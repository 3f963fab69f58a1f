"""The msgspec pass over a batch (RecordSchema.validate_one_pass) against the per-field
parsers: it may hand a batch back to them, but what it clears must be exactly what they give,
for JSON values and for CSV text alike."""

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.ingestion.parsers import parse_csv, parse_json, parse_ndjson
from inventory.ingestion.schemas import CLOUD_USAGE, WORKLOAD, batch_context

CONTEXT = batch_context()


def workload(**overrides):
    return {
        "external_id": "job-1",
        "team": "research",
        "phase": "training",
        "started_at": "2026-03-01T08:00:00Z",
        "ended_at": "2026-03-01T10:00:00Z",
        "location": "bench-dc",
        "energy_kwh": 12.5,
        **overrides,
    }


def same_values(fast: list[dict], slow: list[dict]) -> bool:
    """Equal, with the same types and the same sign of zero (content hashes see both)."""

    def key(value):
        if isinstance(value, float) and value == 0:
            return (float, math.copysign(1, value))
        return (type(value), value)

    return [{k: key(v) for k, v in r.items()} for r in fast] == [
        {k: key(v) for k, v in r.items()} for r in slow
    ]


def test_a_clean_json_batch_is_checked_in_one_pass_with_the_parsers_values():
    rows = [
        workload(),
        workload(
            external_id="job-2",
            started_at="2026-03-01T10:00:00+02:00",
            ended_at="2026-03-01T09:30:00",
            device_count=8,
            energy_includes_pue=True,
            tags={"cluster": "p5"},
        ),
    ]
    fast = WORKLOAD.validate_one_pass(rows, CONTEXT, "json")
    assert fast is not None
    assert same_values(fast, WORKLOAD.validate(rows, CONTEXT)[0])
    assert fast[1]["started_at"] == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert fast[1]["ended_at"] == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert fast[0]["device_count"] == 1 and fast[0]["energy_includes_pue"] is False
    assert "model" not in fast[0] and "tags" not in fast[0]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"model": None}, "null: left out by the parsers"),
        ({"model": ""}, "blank: left out by the parsers"),
        ({"energy_kwh": "12.5"}, "a number sent as text"),
        ({"device_count": 2.0}, "a whole float"),
        ({"tags": {"gpus": 8}}, "a number as a tag value"),
    ],
)
def test_values_only_the_parsers_take_send_the_batch_to_them(change, why):
    rows = [workload(), workload(external_id="job-2", **change)]
    assert WORKLOAD.validate_one_pass(rows, CONTEXT, "json") is None, why
    records, errors = WORKLOAD.validate(rows, CONTEXT, one_pass="json")
    assert not errors and len(records) == 2, why


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"energy_kwh": -1}, "energy_kwh", "Must be at least 0"),
        ({"ended_at": "2026-03-01T07:00:00Z"}, "ended_at", "Must be after started_at"),
        ({"ended_at": "2999-01-01T00:00:00Z"}, "ended_at", "Is in the future"),
        ({"phase": "tuning"}, "phase", "'tuning' is not one of"),
        ({"team": "Research Lab"}, "team", "Must be a slug"),
        ({"colour": "green"}, "colour", "Unknown field"),
        ({"utilization": 1.5}, "utilization", "Must be at most 1"),
    ],
)
def test_a_bad_row_is_still_named_by_the_parsers(change, field, message):
    rows = [workload(), workload(external_id="job-2", **change)]
    _, errors = WORKLOAD.validate(rows, CONTEXT, one_pass="json")
    assert [(e["row"], e["field"]) for e in errors.errors] == [(1, field)]
    assert errors.errors[0]["message"].startswith(message)


def test_a_clean_csv_batch_is_checked_in_one_pass_with_the_parsers_values():
    body = (
        b"external_id,team,phase,started_at,ended_at,location,device_count,energy_kwh,"
        b"energy_includes_pue,tag:cluster\n"
        b"job-1,research,training,2026-03-01T08:00:00Z,2026-03-01T10:00:00Z,lab,8,12.5,yes,p5\n"
        b"job-2,research,inference,2026-03-01T08:00:00Z,2026-03-01T09:00:00Z,lab,1,-0,0,\n"
    )
    raw = parse_csv(body, WORKLOAD.field_names)
    assert raw.one_pass == "text"
    fast = WORKLOAD.validate_one_pass(raw.rows, CONTEXT, "text")
    assert fast is not None
    assert same_values(fast, WORKLOAD.validate(raw.rows, CONTEXT)[0])
    assert fast[0]["device_count"] == 8 and fast[0]["energy_includes_pue"] is True
    assert fast[0]["tags"] == {"cluster": "p5"} and "tags" not in fast[1]
    assert math.copysign(1, fast[1]["energy_kwh"]) == -1  # "-0" is -0.0, as float() reads it


def test_only_bodies_without_nul_are_offered_the_one_pass():
    assert parse_json(b'[{"external_id": "a"}]').one_pass == "json"
    assert parse_ndjson(b'{"external_id": "a"}\n').one_pass == "json"
    assert parse_csv(b"external_id\na\n", WORKLOAD.field_names).one_pass == "text"
    assert parse_json(b'[{"external_id": "a\\u0000"}]').one_pass is None
    assert parse_ndjson(b'{"external_id": "a\\u0000"}\n').one_pass is None
    assert (
        parse_csv(b'external_id,tags\na,"{""k"": ""\\u0000""}"\n', ["external_id", "tags"]).one_pass
        is None
    )


# Any row of JSON values, valid or not: if the one pass clears it, the parsers clear it too,
# with the same values.
TIMESTAMPS = st.sampled_from(
    [
        "2026-03-01T08:00:00Z",
        "2026-03-01T08:00:00+00:00",
        "2026-03-01T08:00:00-05:30",
        "2026-03-01T08:00:00.123456Z",
        "2026-03-01T08:00:00.1234567Z",
        "2026-03-01 08:00:00Z",
        "2026-03-01t08:00:00z",
        "2026-03-01T08:00:00",
        "2026-03-01T08:00Z",
        "2026-03-01",
        "20260301T080000Z",
        "2026-03-01T24:00:00Z",
        "2026-03-01T08:00:60Z",
        "2026-02-30T08:00:00Z",
        "2026-03-01T08:00:00+24:00",
    ]
)
TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([0, 1, 2, 100_000, 100_001, 2**63, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=0, max_value=100_001),
    st.sampled_from([-0.0, 0.0, 0.5, 1.0, 1.5, 5.0, 5.5, 1e9, 1e12, 1e-5, 1e16]),
    TEXT,
    st.sampled_from(["", "training", "inference", "gpu", "compute", "research", "USD", "usd"]),
    st.sampled_from(["a" * 60, "a" * 61, "a" * 200, "a" * 201, "team_1", "-", "a\n"]),
    TIMESTAMPS,
    st.dictionaries(TEXT, st.one_of(TEXT, st.integers(), st.floats(), st.none()), max_size=3),
    st.lists(st.integers(), max_size=2),
)
WORDS = TEXT.filter(bool)
NUMBERS = st.one_of(
    st.floats(min_value=-1, max_value=1e12),
    st.integers(min_value=-1, max_value=10**12),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 10**400]),
)
# Values a client might well send for each field, so that many changed rows are clean.
LIKELY = {
    "team": st.from_regex(r"[-a-zA-Z0-9_]{1,61}", fullmatch=True),
    "phase": st.sampled_from(["training", "inference", "fine_tuning", "other", "x"]),
    "usage_kind": st.sampled_from(["compute", "gpu", "storage", "x"]),
    "started_at": TIMESTAMPS,
    "ended_at": TIMESTAMPS,
    "usage_start": TIMESTAMPS,
    "usage_end": TIMESTAMPS,
    "device_count": st.integers(min_value=0, max_value=100_001),
    "inferences": st.integers(min_value=-1, max_value=10**12),
    "tokens": st.integers(min_value=-1, max_value=10**12),
    "energy_includes_pue": st.booleans(),
    "tags": st.dictionaries(WORDS, WORDS, max_size=3),
    "currency": st.sampled_from(["USD", "EUR", "usd", "US"]),
}
LIKELY |= {
    name: NUMBERS
    for name in ("energy_kwh", "avg_power_w", "utilization", "pue", "quantity", "replication")
}
LIKELY |= {"cost": NUMBERS}


def changes(schema):
    """A few fields of the schema (or an unknown one) set to likely or to any values."""
    names = st.sampled_from([*(f.name for f in schema.fields), "colour"])
    change = names.flatmap(
        lambda name: st.tuples(st.just(name), st.one_of(*[LIKELY.get(name, WORDS)] * 3, VALUES))
    )
    return st.tuples(st.just(schema), st.lists(change, min_size=1, max_size=3).map(dict))


def base_row(schema):
    if schema is WORKLOAD:
        return workload()
    return {
        "external_id": "u-1",
        "team": "research",
        "location": "aws:us-east-1",
        "service": "EC2",
        "usage_kind": "compute",
        "quantity": 10.0,
        "usage_start": "2026-03-01T00:00:00Z",
        "usage_end": "2026-03-01T01:00:00Z",
    }


def assert_cleared_alike(schema, rows, values="json"):
    if values == "text":  # as a CSV reader hands them over: text, tags a dict
        rows = [{k: v if isinstance(v, dict) else str(v) for k, v in r.items()} for r in rows]
    fast = schema.validate_one_pass(rows, CONTEXT, values)
    slow, errors = schema.validate(rows, CONTEXT)
    if fast is not None:
        assert not errors, (rows, errors.errors)
        assert same_values(fast, slow), rows


EDGES = [
    None, True, False, 0, 1, -1, 2**63, 10**400, 0.0, -0.0, 0.5, 1.0, 5.0, 1e-5, 1e16, 1e300,
    math.nan, math.inf, -math.inf, "", " ", "1", "1.5", "true", "a\n", "x" * 61, "x" * 201,
    "training", "compute", "USD", "team_1", "2026-03-01T08:00:00Z", [], {}, {"k": "v"},
    {"k": 1}, {"": "v"}, {"k" * 61: "v"}, {"k": "v" * 201}, {f"k{i}": "v" for i in range(51)},
]  # fmt: skip


@pytest.mark.parametrize("values", ["json", "text"])
@pytest.mark.parametrize("schema", [WORKLOAD, CLOUD_USAGE], ids=lambda s: s.name)
def test_every_field_given_each_edge_value_is_cleared_alike(schema, values):
    for spec in schema.fields:
        for value in EDGES:
            assert_cleared_alike(schema, [{**base_row(schema), spec.name: value}], values)


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from([WORKLOAD, CLOUD_USAGE]).flatmap(changes), st.sampled_from(["json", "text"]))
def test_what_the_one_pass_clears_the_parsers_clear_with_the_same_values(changed, values):
    schema, change = changed
    assert_cleared_alike(schema, [{**base_row(schema), **change}], values)
