"""On-site water by tier, and a facility's yearly indicators, worked by hand."""

import pytest

from inventory.calculation.errors import CalculationError
from inventory.calculation.water import WaterTier, facility_indicators, onsite_water


def test_it_applies_the_facility_wue_to_the_it_energy():
    # 8 H100s for 24 h at half load: (79.1 + 0.5 × (700 − 79.1)) W = 389.55 W a device;
    # 389.55 W × 8 × 24 h = 74,793.6 Wh = 74.7936 kWh of IT energy; × 1.8 L/kWh = 134.62848 L.
    water = onsite_water(it_kwh=74.7936, facility_wue=1.8, provider_wue=0.12)
    assert water.litres == pytest.approx(134.62848, rel=1e-12)
    assert (water.tier, water.wue) == (WaterTier.FACILITY, 1.8)


def test_it_keeps_measured_water_before_any_wue():
    water = onsite_water(it_kwh=74.7936, measured_l=50.0, facility_wue=1.8)
    assert (water.litres, water.tier, water.wue) == (50.0, WaterTier.MEASURED, None)


def test_it_falls_back_to_the_providers_published_wue():
    # AWS us-east-1, 2024: 0.12 L/kWh (GSF real-time-cloud region metadata); 10 kWh → 1.2 L.
    water = onsite_water(it_kwh=10.0, provider_wue=0.12)
    assert water.litres == pytest.approx(1.2)
    assert water.tier == WaterTier.PROVIDER


def test_without_a_wue_or_a_measurement_water_is_not_available_not_zero():
    assert onsite_water(it_kwh=74.7936).litres is None
    assert onsite_water(it_kwh=None, facility_wue=1.8).litres is None
    # A WUE of 0 (a facility cooled without water) is a figure: 0 L, not "not available".
    assert onsite_water(it_kwh=10.0, facility_wue=0.0).litres == 0.0


def test_it_refuses_negative_inputs():
    with pytest.raises(CalculationError):
        onsite_water(it_kwh=10.0, facility_wue=-1.0)
    with pytest.raises(CalculationError):
        onsite_water(it_kwh=10.0, measured_l=-5.0)


def test_it_gives_a_years_indicators():
    # A year of 10,000 kWh IT and 12,000 kWh facility energy; 16,200 L of water over the
    # 9,000 IT kWh whose water is known; certificates covering 9,000 kWh.
    year = facility_indicators(
        it_kwh=10_000.0,
        facility_kwh=12_000.0,
        water_l=16_200.0,
        water_it_kwh=9_000.0,
        renewable_kwh=9_000.0,
    )
    assert (year.it_mwh, year.facility_mwh) == (10.0, 12.0)
    assert year.pue == pytest.approx(1.2)  # 12,000 / 10,000
    assert year.water_m3 == pytest.approx(16.2)
    assert year.wue == pytest.approx(1.8)  # 16,200 L / 9,000 kWh
    assert year.renewable_mwh == pytest.approx(9.0)
    assert year.non_renewable_mwh == pytest.approx(3.0)  # 12 − 9 MWh
    assert year.ref == pytest.approx(0.75)  # 9,000 / 12,000


def test_indicators_without_inputs_are_not_available():
    year = facility_indicators(
        it_kwh=0.0, facility_kwh=0.0, water_l=None, water_it_kwh=0.0, renewable_kwh=None
    )
    assert (year.pue, year.water_m3, year.wue, year.ref) == (None, None, None, None)
    assert (year.renewable_mwh, year.non_renewable_mwh) == (None, None)


def test_more_certificates_than_energy_give_a_ref_of_one():
    year = facility_indicators(
        it_kwh=100.0, facility_kwh=120.0, water_l=None, water_it_kwh=0.0, renewable_kwh=500.0
    )
    assert (year.ref, year.non_renewable_mwh) == (1.0, 0.0)
