"""Billing exports imported through the API, as in tests/inventory/test_imports_api.py."""

from pathlib import Path

import pytest

from inventory.models import TeamMappingRule
from inventory.pipeline import records_compute
from tests.inventory.test_imports_api import default_team, eager_tasks, media, run  # noqa: F401

FIXTURES = Path(__file__).parents[2] / "fixtures" / "billing"


@pytest.fixture
def import_file(tenant, django_capture_on_commit_callbacks):
    """Upload `content` as `file_format` with the tenant's token; the finished job's JSON."""

    def go(name: str, content: bytes, file_format: str, client=None) -> dict:
        return run(client or tenant.token_client(), name, content, file_format,
                   django_capture_on_commit_callbacks)  # fmt: skip

    return go


@pytest.fixture
def tag_rule(tenant):
    """Lines tagged team=serving belong to the serving team (a rule of any source)."""
    return TeamMappingRule.objects.create(
        organisation=tenant.organisation, key="tag:team", value="serving",
        team=tenant.teams["serving"], model_name="atlas-7b-chat",
    )  # fmt: skip


@pytest.fixture
def compute():
    """Compute the energy of what was imported (the pipeline's set-based pass)."""
    return records_compute
