"""docs/methodology.md and the code state the same defaults, so neither can drift alone."""

import dataclasses
from pathlib import Path

import pytest

from inventory.calculation import methodology, units
from inventory.calculation.cloud import CloudCoefficients

DOC = Path(__file__).resolve().parents[3] / "docs" / "methodology.md"


def _cells(row: str) -> list[str]:
    return [cell.strip().strip("`").strip() for cell in row.strip().strip("|").split("|")]


def documented_constants() -> dict[str, str]:
    """constant -> value cell, from every table whose first column is "constant"."""
    rows: dict[str, str] = {}
    header: list[str] | None = None
    for text in DOC.read_text(encoding="utf-8").splitlines():
        if not text.lstrip().startswith("|"):
            header = None
            continue
        cells = _cells(text)
        if header is None:
            header = [cell.lower() for cell in cells]
            continue
        if header[0] != "constant" or set("".join(cells)) <= set("-: "):
            continue
        name, value = cells[0], cells[header.index("value")]
        assert name not in rows, f"{name} is documented twice"
        rows[name] = value
    return rows


def code_value(name: str) -> object:
    if name.startswith("CloudCoefficients."):
        field = name.removeprefix("CloudCoefficients.")
        defaults = {f.name: f.default for f in dataclasses.fields(CloudCoefficients)}
        assert field in defaults, f"CloudCoefficients has no field {field}"
        return defaults[field]
    if name.startswith("units."):
        return getattr(units, name.removeprefix("units."))
    assert hasattr(methodology, name), f"methodology.py has no constant {name}"
    return getattr(methodology, name)


def public_constants(module) -> set[str]:
    return {name for name in vars(module) if name.isupper() and not name.startswith("_")}


DOCUMENTED = documented_constants()


def test_the_doc_has_a_defaults_table():
    assert {"DEFAULT_UTILIZATION", "DEFAULT_FACILITY_PUE"} <= DOCUMENTED.keys()


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_every_documented_default_equals_the_code(name):
    value = code_value(name)
    stated = DOCUMENTED[name]
    if isinstance(value, str):
        assert stated == value
    else:
        assert float(stated.replace(",", "")) == value


def test_every_methodology_constant_is_documented():
    assert public_constants(methodology) <= DOCUMENTED.keys()


def test_every_unit_constant_is_documented():
    assert {f"units.{name}" for name in public_constants(units)} <= DOCUMENTED.keys()


def test_every_cloud_coefficient_is_documented():
    fields = {f"CloudCoefficients.{f.name}" for f in dataclasses.fields(CloudCoefficients)}
    assert fields <= DOCUMENTED.keys()


def test_the_doc_names_the_methodology_version():
    assert f"Methodology version: **{methodology.METHODOLOGY_VERSION}**" in DOC.read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize(
    "expression",
    [
        "avg_power_w * device_count * duration_s / 3600000.0",
        "(idle_w + u * (max_w - idle_w)) * device_count * duration_s / 3600000.0",
        "duration_s / 3600.0",
        "facility_kwh = it_kwh * pue",
        "(idle_w + u * (max_w - idle_w)) * quantity * replication / 1000.0",
        "quantity * memory_kwh_per_gb_hour * replication",
        "quantity * ssd_wh_per_tb_hour * replication / 1000.0",
        "quantity * hdd_wh_per_tb_hour * replication / 1000.0",
        "quantity * network_kwh_per_gb",
        "kg = facility_kwh * kg_per_kwh",
        "kg = sum(allocation kg) + residual_kwh * residual_factor",
        "kg * 1000.0 / inferences * 1000.0",
        "kg * 1000.0 / tokens * 1000000.0",
    ],
)
def test_the_doc_states_each_contract_expression(expression):
    assert expression in DOC.read_text(encoding="utf-8")
