"""Dependencies run one way: accounts ← inventory ← reports. A module of an app never imports
an app that depends on it (the pipeline knows locked periods through
inventory.pipeline.locks, which reports plugs into)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each app and the apps it must never import.
NEVER = {"accounts": {"inventory", "reports"}, "inventory": {"reports"}}


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("app", sorted(NEVER))
def test_an_app_never_imports_the_apps_built_on_it(app):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) & NEVER[app])
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {path: apps for path, apps in wrong.items() if apps} == {}


def test_the_check_sees_an_import_of_reports(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from reports.models import ReportVersion\n")
    assert imported_apps(module) == {"reports"}
