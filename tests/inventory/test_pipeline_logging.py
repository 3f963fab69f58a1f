"""Structured logs: the pipeline's records carry the task id and the batch id, as JSON."""

import io
import json
import logging

import pytest

from greenai_portal.logs import ContextFilter, JsonFormatter, PlainFormatter, log_context
from inventory.tasks import compute_batch
from tests.inventory.test_pipeline import stored_batch, stored_workload

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("inventory")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_compute_task_logs_carry_the_task_and_batch_ids(tenant, captured):
    batch = stored_batch(tenant)
    stored_workload(tenant, batch, avg_power_w=100.0)
    result = compute_batch.apply(args=[batch.id])
    assert result.get() == 1
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    window = next(line for line in lines if line["message"] == "computed window")
    assert window["batch_id"] == batch.id
    assert window["task_id"] == result.id
    assert window["task_name"] == "inventory.tasks.compute_batch"
    assert window["organisation_id"] == tenant.organisation.id
    assert window["level"] == "INFO" and window["logger"] == "inventory.pipeline.compute"


def test_plain_format_appends_the_context_fields():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    with log_context(batch_id=7, job_id=None):
        ContextFilter().filter(record)
    text = PlainFormatter().format(record)
    assert text.endswith("INFO x hello batch_id=7")
