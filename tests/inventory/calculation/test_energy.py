import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.calculation.energy import (
    EnergyTier,
    ItEnergy,
    PowerProfile,
    duration_hours,
    facility_energy_kwh,
    it_energy,
    resolve_pue,
)
from inventory.calculation.errors import CalculationError
from inventory.calculation.methodology import DEFAULT_FACILITY_PUE, DEFAULT_UTILIZATION

H100 = PowerProfile(idle_w=60.0, max_w=700.0)


def test_it_converts_seconds_to_hours():
    assert duration_hours(5400.0) == 1.5
    assert duration_hours(0) == 0.0


def test_calculation_error_is_a_value_error():
    assert issubclass(CalculationError, ValueError)


def test_it_uses_measured_energy_first():
    result = it_energy(
        duration_s=3600.0, device_count=8, energy_kwh=12.5, avg_power_w=500.0, power=H100
    )
    assert result == ItEnergy(kwh=12.5, tier=EnergyTier.MEASURED, utilization=None)


def test_it_uses_metered_power_before_the_hardware_model():
    # 500 W per device, 8 devices, 10 h = 40 kWh.
    result = it_energy(duration_s=36000.0, device_count=8, avg_power_w=500.0, power=H100)
    assert result == ItEnergy(kwh=40.0, tier=EnergyTier.METERED, utilization=None)


def test_it_models_energy_from_idle_and_max_power():
    # (60 + 0.7 * 640) W = 508 W per device; 8 devices for 10 h = 40.64 kWh.
    result = it_energy(duration_s=36000.0, device_count=8, power=H100, utilization=0.7)
    assert result.tier == EnergyTier.MODELLED
    assert result.kwh == pytest.approx(40.64)
    assert result.utilization == 0.7


def test_it_models_with_the_default_utilization_when_none_is_given():
    # (60 + 0.5 * 640) W = 380 W for one device for one hour.
    result = it_energy(duration_s=3600.0, device_count=1, power=H100)
    assert result.utilization == DEFAULT_UTILIZATION == 0.5
    assert result.kwh == pytest.approx(0.38)


def test_it_evaluates_the_contract_expressions_bit_for_bit():
    # The SQL pipeline evaluates exactly these expressions; equality, not approx.
    metered = it_energy(duration_s=4321.7, device_count=3, avg_power_w=287.3)
    assert metered.kwh == 287.3 * 3 * 4321.7 / 3600000.0
    power = PowerProfile(idle_w=46.0, max_w=407.0)
    modelled = it_energy(duration_s=4321.7, device_count=3, power=power, utilization=0.37)
    assert modelled.kwh == (46.0 + 0.37 * (407.0 - 46.0)) * 3 * 4321.7 / 3600000.0


def test_tiers_are_the_stored_strings():
    assert [t.value for t in EnergyTier] == ["measured", "metered", "modelled"]
    assert EnergyTier.METERED == "metered"


def test_zero_energy_is_still_measured():
    result = it_energy(duration_s=60.0, device_count=1, energy_kwh=0.0, power=H100)
    assert result.tier == EnergyTier.MEASURED and result.kwh == 0.0


def test_it_refuses_a_record_with_no_energy_power_or_hardware():
    with pytest.raises(CalculationError, match="no energy rule applies"):
        it_energy(duration_s=3600.0, device_count=1, utilization=0.5)


@pytest.mark.parametrize(
    "overrides",
    [
        {"duration_s": -1.0},
        {"duration_s": math.nan},
        {"duration_s": math.inf},
        {"device_count": 0},
        {"device_count": -2},
        {"device_count": 1.5},
        {"device_count": True},
        {"energy_kwh": -0.1},
        {"energy_kwh": math.nan},
        {"avg_power_w": -5.0},
        {"avg_power_w": math.nan},
        {"utilization": 1.01},
        {"utilization": -0.01},
        {"utilization": math.nan},
        {"energy_kwh": Decimal("1.5")},
        {"energy_kwh": "1.5"},
        {"power": (60.0, 700.0)},
    ],
)
def test_it_refuses_invalid_inputs(overrides):
    arguments = {"duration_s": 3600.0, "device_count": 1, "power": H100} | overrides
    with pytest.raises(CalculationError):
        it_energy(**arguments)


def test_a_bad_value_is_refused_even_when_a_better_tier_applies():
    # A negative power beside a measured energy still marks the record as bad data.
    with pytest.raises(CalculationError, match="avg_power_w"):
        it_energy(duration_s=1.0, device_count=1, energy_kwh=1.0, avg_power_w=-1.0)


@pytest.mark.parametrize(
    ("idle_w", "max_w"), [(-1.0, 10.0), (10.0, 5.0), (math.nan, 10.0), (1.0, math.inf)]
)
def test_it_refuses_an_impossible_power_profile(idle_w, max_w):
    with pytest.raises(CalculationError):
        PowerProfile(idle_w=idle_w, max_w=max_w)


def test_a_power_profile_stores_floats():
    profile = PowerProfile(idle_w=46, max_w=407)
    assert isinstance(profile.idle_w, float) and isinstance(profile.max_w, float)


def test_it_applies_pue_to_it_energy():
    assert facility_energy_kwh(it_kwh=40.0, pue=1.2) == 40.0 * 1.2


def test_it_never_applies_pue_twice_to_energy_that_includes_it():
    # CodeCarbon's energy_consumed is already multiplied by its PUE.
    assert facility_energy_kwh(it_kwh=30.0, pue=1.4, pue_included=True) == 30.0


@pytest.mark.parametrize(("it_kwh", "pue"), [(-1.0, 1.2), (1.0, 0.9), (1.0, math.nan)])
def test_it_refuses_invalid_facility_inputs(it_kwh, pue):
    with pytest.raises(CalculationError):
        facility_energy_kwh(it_kwh=it_kwh, pue=pue)


def test_the_record_pue_wins():
    assert resolve_pue(record_pue=1.3, facility_pue=1.2, provider_pue=1.1) == (1.3, "record")


def test_the_facility_pue_comes_next():
    assert resolve_pue(record_pue=None, facility_pue=1.2, provider_pue=1.1) == (1.2, "facility")


def test_the_provider_default_comes_after_the_facility():
    result = resolve_pue(record_pue=None, facility_pue=None, provider_pue=1.135)
    assert result == (1.135, "provider_default")


def test_the_methodology_default_is_the_last_resort():
    result = resolve_pue(record_pue=None, facility_pue=None, provider_pue=None)
    assert result == (DEFAULT_FACILITY_PUE, "methodology_default")
    assert DEFAULT_FACILITY_PUE == 1.56


def test_an_invalid_pue_is_refused_not_skipped():
    with pytest.raises(CalculationError, match="record_pue"):
        resolve_pue(record_pue=0.8, facility_pue=1.2, provider_pue=None)


@given(
    duration_s=st.floats(min_value=0, max_value=1e9),
    device_count=st.integers(min_value=1, max_value=100_000),
    idle_w=st.floats(min_value=0, max_value=2000),
    span_w=st.floats(min_value=0, max_value=2000),
    utilization=st.floats(min_value=0, max_value=1),
)
def test_modelled_energy_lies_between_idle_and_max_power(
    duration_s, device_count, idle_w, span_w, utilization
):
    power = PowerProfile(idle_w=idle_w, max_w=idle_w + span_w)
    result = it_energy(
        duration_s=duration_s, device_count=device_count, power=power, utilization=utilization
    )
    at_idle = power.idle_w * device_count * duration_s / 3600000.0
    at_max = power.max_w * device_count * duration_s / 3600000.0
    assert at_idle * (1 - 1e-12) <= result.kwh <= at_max * (1 + 1e-12)
