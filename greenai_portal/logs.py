"""Structured logging: context fields (task id, batch id, job id...) on every record.

``log_context(batch_id=...)`` adds fields to every record logged inside it (a contextvar, so
threads and tasks keep theirs apart); ContextFilter also adds the running Celery task's id and
name. JsonFormatter writes one JSON object per line with every such field as a key;
PlainFormatter appends them as ``key=value``. Choose with DJANGO_LOG_FORMAT.

RedactKeysFilter, on every handler, takes API keys out of records before any handler writes
them: CodeCarbon's HTTP output puts its key in the URL (`/codecarbon/emissions/<key>/`,
`?key=`), so request lines, `django.request` warnings and request reprs would carry it.
RedactingExceptionReporter does the same for Django's error pages and admin e-mails.
"""

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from django.views.debug import ExceptionReporter

_context: ContextVar[dict] = ContextVar("greenai_log_context", default={})  # noqa: B039

# Attributes every LogRecord has: anything else was passed in `extra` or by a filter.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


@contextmanager
def log_context(**fields) -> Iterator[None]:
    """Add these fields (None values left out) to every record logged inside the block."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def _current_task():
    try:
        from celery._state import get_current_task
    except ImportError:  # pragma: no cover - Celery is a dependency
        return None
    return get_current_task()


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        task = _current_task()
        task_id = getattr(task.request, "id", None) if task is not None else None
        if task_id and not hasattr(record, "task_id"):
            record.task_id = task_id
            record.task_name = task.name
        return True


def extra_fields(record: logging.LogRecord) -> dict:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **extra_fields(record),
        }
        # exc_text alone when RedactKeysFilter formatted (and redacted) it already.
        if record.exc_info or record.exc_text:
            payload["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = extra_fields(record)
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return text


REDACTED = "[redacted]"
# A portal key anywhere; then whatever stands where clients put keys, even a mistyped one.
_SECRETS = (
    (re.compile(r"gai_[0-9a-f]{12}_[A-Za-z0-9_-]+"), REDACTED),
    (re.compile(r"(/codecarbon/emissions/)[^/?#\s'\"]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"([?&](?:api_)?key=)[^&#\s'\"]+", re.IGNORECASE), rf"\g<1>{REDACTED}"),
    (
        re.compile(
            r"((?:x-api-token|HTTP_X_API_TOKEN|authorization|HTTP_AUTHORIZATION)['\"]?\s*[:=,]\s*"
            r"['\"]?(?:(?:Token|Bearer)\s+)?)[^\s'\",}]+",
            re.IGNORECASE,
        ),
        rf"\g<1>{REDACTED}",
    ),
)


def redact(text: str) -> str:
    """The text with every API key (and whatever sits where a key goes) replaced."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactKeysFilter(logging.Filter):
    """Rewrites the record in place, so every later handler (and formatter) sees it clean:
    the message is formatted and redacted (args dropped), the traceback pre-formatted and
    redacted (the exception object dropped), and extra fields whose text holds a key (a
    request object) become that text, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep both parts, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        # Formatters print exc_text; the exception object itself may hold a key.
        record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in extra_fields(record).items():
            if isinstance(value, int | float | bool | type(None)):
                continue
            text = str(value)
            if redact(text) != text:
                setattr(record, key, redact(text))
        return True


class RedactingExceptionReporter(ExceptionReporter):
    """Django's error page and admin e-mail (request URL, GET, META, frames) without keys."""

    def get_traceback_html(self) -> str:
        return redact(super().get_traceback_html())

    def get_traceback_text(self) -> str:
        return redact(super().get_traceback_text())
