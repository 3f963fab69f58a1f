"""Property tests for the parts of the calculation engine the unit tests check by example only
(cloud usage energy, location-based emissions, intensity); energy tiers and the market-based
allocation have theirs in tests/inventory/calculation/.

Any input either gives a finite, non-negative figure that obeys the formula's shape (linear in
the quantity, bounded by idle and max power, PUE a factor, never applied twice), or is refused
with a CalculationError; nothing else.
"""

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from inventory.calculation.cloud import CloudCoefficients, UsageKind, cloud_usage_it_kwh
from inventory.calculation.cloud import cloud_usage_kwh as cloud_kwh
from inventory.calculation.emissions import (
    grams_per_1k_inferences,
    grams_per_1m_tokens,
    location_based_kg,
)
from inventory.calculation.energy import PowerProfile, facility_energy_kwh, it_energy
from inventory.calculation.errors import CalculationError

FINITE = {"allow_nan": False, "allow_infinity": False}
AMOUNTS = st.floats(min_value=0, max_value=1e9, **FINITE)
FRACTIONS = st.floats(min_value=0, max_value=1, **FINITE)
PUES = st.floats(min_value=1, max_value=5, **FINITE)
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.text(max_size=5),
    st.decimals(allow_nan=True),
)


@st.composite
def profiles(draw) -> PowerProfile:
    idle = draw(st.floats(min_value=0, max_value=2000, **FINITE))
    peak = draw(st.floats(min_value=idle, max_value=4000, **FINITE))
    return PowerProfile(idle_w=idle, max_w=peak)


POWERED = st.sampled_from([UsageKind.COMPUTE, UsageKind.GPU])
UNPOWERED = st.sampled_from(
    [UsageKind.MEMORY, UsageKind.STORAGE_SSD, UsageKind.STORAGE_HDD, UsageKind.NETWORK]
)


@given(POWERED, AMOUNTS, profiles(), FRACTIONS)
def test_powered_cloud_usage_lies_between_idle_and_max_power(kind, quantity, power, u):
    kwh = cloud_usage_it_kwh(kind=kind, quantity=quantity, power=power, utilization=u)
    low = power.idle_w * quantity / 1000.0
    high = power.max_w * quantity / 1000.0
    assert math.isfinite(kwh) and kwh >= 0
    assert low * (1 - 1e-12) <= kwh <= high * (1 + 1e-12)


@given(st.one_of(POWERED, UNPOWERED), AMOUNTS, profiles(), FRACTIONS, PUES)
def test_cloud_usage_is_linear_in_the_quantity_and_pue_is_a_factor(kind, q, power, u, pue):
    powered = kind in (UsageKind.COMPUTE, UsageKind.GPU)
    extra = {"power": power, "utilization": u} if powered else {}
    once = cloud_usage_it_kwh(kind=kind, quantity=q, **extra)
    twice = cloud_usage_it_kwh(kind=kind, quantity=2 * q, **extra)
    assert twice == pytest.approx(2 * once, rel=1e-12, abs=1e-300)
    facility = cloud_kwh(kind=kind, quantity=q, pue=pue, **extra)
    assert facility == once * pue


@given(UNPOWERED.filter(lambda k: k != UsageKind.NETWORK), AMOUNTS, st.floats(1, 20, **FINITE))
def test_replication_multiplies_stored_data(kind, quantity, copies):
    one = cloud_usage_it_kwh(kind=kind, quantity=quantity)
    many = cloud_usage_it_kwh(kind=kind, quantity=quantity, replication=copies)
    assert many == pytest.approx(one * copies, rel=1e-12, abs=1e-300)


@given(
    st.sampled_from(list(UsageKind)),
    ANYTHING,
    st.one_of(st.none(), profiles()),
    ANYTHING,
    ANYTHING,
)
def test_cloud_usage_refuses_bad_input_with_a_calculation_error(kind, q, power, u, copies):
    try:
        kwh = cloud_usage_it_kwh(
            kind=kind,
            quantity=q,
            power=power,
            utilization=u,
            replication=1.0 if copies is None else copies,
        )
    except CalculationError:
        return
    assert math.isfinite(kwh) and kwh >= 0


@given(st.text(max_size=12))
def test_an_unknown_usage_kind_is_refused(kind):
    assume(kind not in set(UsageKind))
    with pytest.raises(CalculationError):
        cloud_usage_it_kwh(kind=kind, quantity=1.0)


@given(st.floats(min_value=-1, max_value=2e-3))
def test_coefficients_must_not_be_negative(value):
    if value < 0:
        with pytest.raises(CalculationError):
            CloudCoefficients(memory_kwh_per_gb_hour=value)
    else:
        assert CloudCoefficients(memory_kwh_per_gb_hour=value).memory_kwh_per_gb_hour == value


@given(AMOUNTS, st.floats(min_value=0, max_value=2, **FINITE))
def test_location_based_emissions_are_energy_times_factor(kwh, factor):
    assert location_based_kg(facility_kwh=kwh, kg_per_kwh=factor) == kwh * factor


@given(ANYTHING, ANYTHING)
def test_location_based_emissions_refuse_bad_input(kwh, factor):
    try:
        kg = location_based_kg(facility_kwh=kwh, kg_per_kwh=factor)
    except CalculationError:
        return
    assert math.isfinite(kg) and kg >= 0


@given(AMOUNTS, st.integers(min_value=1, max_value=10**15))
def test_intensity_scales_inversely_with_the_count(kg, count):
    per_1k = grams_per_1k_inferences(kg, count)
    per_1m = grams_per_1m_tokens(kg, count)
    assert per_1k == pytest.approx(kg * 1e6 / count, rel=1e-12, abs=1e-300)
    assert per_1m == pytest.approx(per_1k * 1000, rel=1e-12, abs=1e-300)


@given(AMOUNTS, st.one_of(st.none(), st.just(0)))
def test_no_count_means_no_intensity(kg, count):
    assert grams_per_1k_inferences(kg, count) is None
    assert grams_per_1m_tokens(kg, count) is None


@given(AMOUNTS, PUES)
def test_pue_is_never_applied_twice(it_kwh, pue):
    assert facility_energy_kwh(it_kwh=it_kwh, pue=pue, pue_included=True) == it_kwh
    assert facility_energy_kwh(it_kwh=it_kwh, pue=pue) == it_kwh * pue


@given(
    st.floats(min_value=0, max_value=3.2e7, **FINITE),
    st.integers(1, 100_000),
    ANYTHING,
    ANYTHING,
    st.one_of(st.none(), profiles()),
    ANYTHING,
)
def test_it_energy_gives_a_figure_or_a_calculation_error(duration, devices, energy, power_w, p, u):
    try:
        result = it_energy(
            duration_s=duration,
            device_count=devices,
            energy_kwh=energy,
            avg_power_w=power_w,
            power=p,
            utilization=u,
        )
    except CalculationError:
        return
    assert math.isfinite(result.kwh) and result.kwh >= 0
