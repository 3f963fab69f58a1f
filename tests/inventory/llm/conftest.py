"""A real Celery worker for the estimate's worker path (tests/inventory/test_celery_worker.py)."""

from tests.inventory.test_celery_worker import worker  # noqa: F401 - a fixture
