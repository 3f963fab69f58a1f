"""Request bodies: the size limit, and JSON decoding that answers every hostile body with a 4xx."""

import json
from typing import Any

import msgspec
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from greenai_portal.errors import ApplicationError


def body_limit() -> int:
    # GREENAI_MAX_BODY_BYTES sets Django's DATA_UPLOAD_MAX_MEMORY_SIZE (greenai_portal/settings.py)
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large(size: int | None = None) -> ApplicationError:
    limit = body_limit()
    got = f" (got {size} bytes)" if size is not None else ""
    return ApplicationError(
        f"Request body too large: the limit is {limit} bytes (GREENAI_MAX_BODY_BYTES){got}; "
        "send smaller batches or use POST /api/v1/imports/ for files",
        status_code=413,
    )


class JsonBodyError(ValueError):
    """The body is not JSON this API can read; the message says why, for the client."""


def load_json(data: bytes | str) -> Any:
    """json.loads, with each way a body can fail worded for the client: syntax (with its place),
    not UTF-8, nested too deeply (RecursionError), an integer of more digits than Python
    converts (ValueError).

    msgspec reads JSON twice as fast and gives the same values; what it refuses (NaN, a
    lone surrogate, a byte order mark, other encodings, every malformed body) goes to the
    standard library, which reads those as before and words the errors; a lone surrogate is
    then refused."""
    try:
        return msgspec.json.decode(data)
    except (msgspec.MsgspecError, RecursionError):
        pass
    try:
        value = json.loads(data)
    except json.JSONDecodeError as error:
        raise JsonBodyError(f"{error.msg} at line {error.lineno} column {error.colno}") from None
    except UnicodeDecodeError:
        raise JsonBodyError("the body is not UTF-8") from None
    except RecursionError:
        raise JsonBodyError("JSON nested too deeply") from None
    except ValueError as error:
        raise JsonBodyError(str(error)) from None
    refuse_lone_surrogates(value)
    return value


def refuse_lone_surrogates(value: Any) -> None:
    """JSON may escape half of a UTF-16 pair (\\ud800) alone; no UTF-8 text, column or answer
    can hold it, so it is refused where the body is read, not met as a 500 later."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except RecursionError:
        raise JsonBodyError("JSON nested too deeply") from None
    except UnicodeEncodeError:
        raise JsonBodyError(
            "a string holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is "
            "not text"
        ) from None


class SafeJSONParser(JSONParser):
    """DRF's JSONParser, which lets a deeply nested body's RecursionError through as a 500
    and a lone surrogate through to fail later, also as a 500."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
            refuse_lone_surrogates(data)
        except RecursionError:
            raise ParseError("JSON parse error - JSON nested too deeply") from None
        except JsonBodyError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        return data
