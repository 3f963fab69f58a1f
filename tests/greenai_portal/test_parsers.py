"""load_json reads every body as the standard library's json.loads does, and words each way a
body can fail for the client."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenai_portal.parsers import JsonBodyError, load_json

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def same(left, right) -> bool:
    # NaN is not equal to itself: compare the shapes with NaN made comparable.
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True) and type(
        left
    ) is type(right)


@settings(max_examples=400, deadline=None)
@given(value=JSON_VALUES, ensure_ascii=st.booleans())
def test_any_json_document_reads_as_json_loads_reads_it(value, ensure_ascii):
    body = json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")
    assert same(load_json(body), json.loads(body))


@settings(max_examples=400, deadline=None)
@given(body=st.binary(max_size=60) | st.text(max_size=60).map(str.encode))
def test_any_bytes_read_as_json_loads_reads_them_or_fail_with_a_worded_error(body):
    try:
        expected = json.loads(body)
        # a lone surrogate, which json.loads reads, is refused (UnicodeEncodeError, a ValueError)
        json.dumps(expected, ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        with pytest.raises(JsonBodyError):
            load_json(body)
    else:
        assert same(load_json(body), expected)


@pytest.mark.parametrize(
    "body, expected",
    [
        (b"NaN", math.nan),
        (b"[1E400]", [math.inf]),
        (b"\xef\xbb\xbf[1]", [1]),
        ('{"a": 1}'.encode("utf-16"), {"a": 1}),
        (b"123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_what_msgspec_refuses_is_read_by_the_standard_library(body, expected):
    assert same(load_json(body), expected)


@pytest.mark.parametrize(
    "body, message",
    [
        (b"[1,]", "Expecting value at line 1 column 4"),
        (b"[" * 100_000, "JSON nested too deeply"),
        (b"\xff[]", "the body is not UTF-8"),
        (b'{"a": ["\\ud800"]}', "a string holds a lone surrogate"),
        (b'{"\\udfff": 1}', "a string holds a lone surrogate"),
    ],
)
def test_a_bad_body_is_refused_with_its_reason(body, message):
    with pytest.raises(JsonBodyError, match=message):
        load_json(body)
