"""The one application error type, with DRF validation errors flattened to its row shape."""

from typing import Any


class ApplicationError(Exception):
    """A business rule refused the request. `errors` lists per-row/field reasons."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.headers = headers or {}
        if status_code is not None:
            self.status_code = status_code


def flatten_validation_errors(detail: Any, *, row: int | None = None) -> list[dict[str, Any]]:
    """DRF's nested error detail as a flat list of {row, field, message}."""
    if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        found: list[dict[str, Any]] = []
        for index, item in enumerate(detail):
            if item:
                found.extend(flatten_validation_errors(item, row=index))
        return found
    if isinstance(detail, dict):
        found = []
        for field, messages in detail.items():
            for message in messages if isinstance(messages, list) else [messages]:
                entry: dict[str, Any] = {"field": field, "message": str(message)}
                if row is not None:
                    entry = {"row": row, **entry}
                found.append(entry)
        return found
    messages = detail if isinstance(detail, list) else [detail]
    return [{"field": "non_field_errors", "message": str(m)} for m in messages]


def validated_input(serializer_class, data: Any) -> dict[str, Any]:
    """The serializer's validated data, or an ApplicationError naming every bad field."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ApplicationError(
            "Invalid parameters", errors=flatten_validation_errors(serializer.errors)
        )
    return serializer.validated_data


def validated_patch(serializer_class, current: dict[str, Any], data: Any) -> dict[str, Any]:
    """A PATCH: the fields given replace the `current` ones, then the whole is validated as a
    full input (so a rule across fields still holds). The API takes JSON; a form value is one
    string, never a list."""
    return validated_input(serializer_class, {**current, **dict(data.items())})
