"""Embodied, cost and SCI maths, against figures worked by hand from the published inputs."""

import pytest

from inventory.calculation.cost import (
    cost_per_1k_inferences,
    cost_per_1m_tokens,
    kg_per_currency_unit,
    record_cost,
    tariff_cost,
    totals_by_currency,
)
from inventory.calculation.embodied import (
    amortised_embodied_kg,
    device_hours,
    instance_host_hours,
)
from inventory.calculation.errors import CalculationError
from inventory.calculation.sci import FunctionalUnit, sci

# NVIDIA HGX H100 PCF 1312 kg / 8 GPUs = 164 kg, + EcoLogits host 5700 kg / 8 = 712.5 kg
H100_KG = 876.5
THREE_YEARS_H = 3 * 365 * 24  # 26280 h


def test_it_amortises_eight_h100s_for_a_day_over_three_years():
    hours = device_hours(device_count=8, duration_s=24 * 3600)
    assert hours == 192.0  # 8 GPUs × 24 h
    # 876.5 kg / 26280 h = 0.0333523592... kg per device-hour; × 192 = 6.40365296... kg
    kg = amortised_embodied_kg(kg_co2e=H100_KG, lifetime_hours=THREE_YEARS_H, device_hours=hours)
    assert kg == pytest.approx(876.5 * 192 / 26280)
    assert kg == pytest.approx(6.4036529680, rel=1e-9)


def test_it_amortises_a_cloud_instances_platform_by_its_share_of_the_family():
    # CCF: TE × (TR / EL) × (RR / TR); m5.large (2 vCPUs) for 10 h in the m5 family, whose
    # largest size m5.24xlarge has 96 vCPUs: 20 vCPU-h / 96 = 0.208333 host-hours, and
    # 1610.79 kg / 35040 h × 0.208333 = 0.00957709 kg (the instance's 2 vCPUs cancel out).
    host_hours = instance_host_hours(vcpu_hours=20.0, family_vcpus=96)
    assert host_hours == pytest.approx(0.2083333333)
    kg = amortised_embodied_kg(kg_co2e=1610.79, lifetime_hours=35040, device_hours=host_hours)
    assert kg == pytest.approx(1610.79 * (10 / 35040) * (2 / 96))
    assert kg == pytest.approx(0.00957709, rel=1e-6)


def test_it_refuses_a_lifetime_of_zero_and_negative_hours():
    with pytest.raises(CalculationError):
        amortised_embodied_kg(kg_co2e=1.0, lifetime_hours=0, device_hours=1)
    with pytest.raises(CalculationError):
        device_hours(device_count=0, duration_s=10)
    with pytest.raises(CalculationError):
        device_hours(device_count=1, duration_s=-1)
    with pytest.raises(CalculationError):
        instance_host_hours(vcpu_hours=-1.0, family_vcpus=96)
    with pytest.raises(CalculationError):
        instance_host_hours(vcpu_hours=1.0, family_vcpus=0)


def test_it_prices_facility_energy_at_the_tariff_and_prefers_the_records_own_cost():
    # 1000 kWh × 0.18 EUR/kWh = 180 EUR
    assert tariff_cost(facility_kwh=1000.0, price_per_kwh=0.18) == pytest.approx(180.0)
    own = record_cost(
        own_cost=42.0,
        own_currency="USD",
        facility_kwh=1000.0,
        price_per_kwh=0.18,
        tariff_currency="EUR",
    )
    assert own == (42.0, "USD")
    assert (
        record_cost(
            own_cost=None,
            own_currency="",
            facility_kwh=10.0,
            price_per_kwh=None,
            tariff_currency="",
        )
        is None
    )


def test_it_never_adds_currencies_together():
    totals = totals_by_currency([(180.0, "EUR"), (20.0, "USD"), (None, ""), (1.5, "EUR")])
    assert totals == {"EUR": 181.5, "USD": 20.0}
    assert totals_by_currency([(None, "")]) == {}


def test_it_gives_cost_intensities_and_none_without_a_denominator():
    assert cost_per_1k_inferences(180.0, 2_000_000) == pytest.approx(0.09)  # 180/2e6*1e3
    assert cost_per_1m_tokens(180.0, 90_000_000) == pytest.approx(2.0)  # 180/9e7*1e6
    assert cost_per_1k_inferences(180.0, 0) is None
    assert cost_per_1m_tokens(180.0, None) is None
    assert kg_per_currency_unit(36.0, 180.0) == pytest.approx(0.2)
    assert kg_per_currency_unit(36.0, 0.0) is None


def test_it_scores_sci_per_1k_inferences_with_location_based_intensity():
    # E = 2016 kWh at I = 0.05 kg/kWh: E × I = 100.8 kg; M = 6.4 kg; R = 2,000,000 inferences
    # SCI = (100.8 + 6.4) / (2e6 / 1000) = 107.2 / 2000 = 0.0536 kg per 1k inferences
    score = sci(
        unit=FunctionalUnit.INFERENCES_1K,
        energy_kwh=2016.0,
        operational_kg=100.8,
        embodied_kg=6.4,
        counted=2_000_000,
    )
    assert score.intensity_kg_per_kwh == pytest.approx(0.05)
    assert score.functional_units == 2000.0
    assert score.kg_per_unit == pytest.approx(0.0536)


def test_it_has_no_score_without_embodied_emissions_or_units():
    no_m = sci(
        unit=FunctionalUnit.TRAINING_RUN,
        energy_kwh=10.0,
        operational_kg=1.0,
        embodied_kg=None,
        counted=1,
    )
    assert no_m.kg_per_unit is None
    no_r = sci(
        unit=FunctionalUnit.TOKENS_1M,
        energy_kwh=0.0,
        operational_kg=0.0,
        embodied_kg=0.0,
        counted=0,
    )
    assert no_r.kg_per_unit is None and no_r.intensity_kg_per_kwh is None
