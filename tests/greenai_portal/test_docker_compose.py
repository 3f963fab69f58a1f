"""Docker cannot run here: check the compose file's services point at code that exists."""

import re
from pathlib import Path

import yaml
from django.core.management import get_commands

from greenai_portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_of(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_it_has_the_production_services_with_health_checks():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name


def test_every_manage_py_command_exists():
    commands = get_commands()
    used = re.findall(r"manage\.py (\w+)", command_of(compose()["services"]["web"]))
    assert used and all(name in commands for name in used)


def test_gunicorn_points_at_the_wsgi_application():
    from greenai_portal.wsgi import application

    assert "greenai_portal.wsgi:application" in command_of(compose()["services"]["web"])
    assert callable(application)


def test_worker_and_beat_use_the_project_celery_app():
    services = compose()["services"]
    assert celery_app.main == "greenai_portal"
    for name in ("worker", "beat"):
        assert command_of(services[name]).startswith("celery -A greenai_portal ")
    assert "inventory.tasks.sweep_pending_records" in {
        entry["task"] for entry in celery_app.conf.beat_schedule.values()
    }


def test_env_example_lists_every_variable_the_stack_reads():
    example = (ROOT / ".env.example").read_text()
    settings_text = (ROOT / "greenai_portal" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+|_bool)\(\s*"([A-Z_]+)"', settings_text))
    listed = set(re.findall(r"^([A-Z_]+)=", example, re.M))
    assert read <= listed, read - listed
