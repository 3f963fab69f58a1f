"""Structured logging: context fields (task id, batch id, job id...) on every record.

``log_context(batch_id=...)`` adds fields to every record logged inside it (a contextvar, so
threads and tasks keep theirs apart); ContextFilter also adds the running Celery task's id and
name. JsonFormatter writes one JSON object per line with every such field as a key;
PlainFormatter appends them as ``key=value``. Choose with DJANGO_LOG_FORMAT.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

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
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
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
