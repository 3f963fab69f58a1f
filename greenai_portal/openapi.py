"""OpenAPI pieces every operation shares: the error shape and the errors any operation answers."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ERROR_RESPONSE = inline_serializer(
    "Error",
    {
        "message": serializers.CharField(),
        "errors": serializers.ListField(
            child=inline_serializer(
                "RowError",
                {
                    # Absent when the problem is not one record's (a CSV header, the whole body).
                    "row": serializers.IntegerField(
                        required=False, help_text="0-based record index"
                    ),
                    "line": serializers.IntegerField(
                        required=False, help_text="1-based line of the body (CSV, NDJSON)"
                    ),
                    "field": serializers.CharField(),
                    "message": serializers.CharField(),
                },
            ),
            required=False,
        ),
    },
)

ERROR_MEANINGS = {
    400: "Malformed body or invalid input: every bad row and field is named",
    401: "No or an invalid API token",
    403: "The token or role may not do this",
    404: "Not found in your organisation",
    409: "An external_id was already stored with other content (rows listed)",
    413: "Body or batch over the configured limit (named in the message)",
    415: "Content type not accepted (the message lists the accepted ones)",
    429: "Over the token's request rate; see Retry-After",
}


def error_responses(*codes: int, **meanings: str) -> dict[int, OpenApiResponse]:
    """Error responses in the API's shape; `meanings` (e.g. m404=...) words one for a view."""
    return {
        code: OpenApiResponse(
            ERROR_RESPONSE, description=meanings.get(f"m{code}", ERROR_MEANINGS[code])
        )
        for code in codes
    }


def _answerable_errors(operation: dict[str, Any]) -> set[int]:
    """What any operation of this API can answer besides success: 401 and 403 (authentication
    and the permission classes); 400 when it takes a body or query parameters; 404 when the
    path names an object (another organisation's objects are 404) or DRF's ?format= names no
    renderer."""
    codes = {401, 403}
    parameters = operation.get("parameters", [])
    queries = {p["name"] for p in parameters if p["in"] == "query"}
    if "requestBody" in operation or queries:
        codes.add(400)
    if any(p["in"] == "path" for p in parameters) or queries & {"format", "version"}:
        codes.add(404)
    return codes


def document_common_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents the errors it can answer,
    in the one error shape, so a client (and schemathesis) never meets an undocumented one."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code in sorted(_answerable_errors(operation)):
                operation["responses"].setdefault(
                    str(code), {"description": ERROR_MEANINGS[code], "content": error}
                )
    return result
