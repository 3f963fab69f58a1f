import math

import pytest

from inventory.calculation.emissions import (
    FacilityKind,
    Scope,
    grams_per_1k_inferences,
    grams_per_1m_tokens,
    location_based_kg,
    scope_for,
)
from inventory.calculation.errors import CalculationError
from inventory.calculation.units import kg_to_tonnes, kwh_to_mwh


def test_it_multiplies_facility_energy_by_the_grid_factor():
    assert location_based_kg(facility_kwh=48.0, kg_per_kwh=0.05) == 48.0 * 0.05


@pytest.mark.parametrize(
    ("facility_kwh", "kg_per_kwh"), [(-1.0, 0.1), (1.0, -0.1), (math.nan, 0.1), (1.0, math.inf)]
)
def test_it_refuses_invalid_location_inputs(facility_kwh, kg_per_kwh):
    with pytest.raises(CalculationError):
        location_based_kg(facility_kwh=facility_kwh, kg_per_kwh=kg_per_kwh)


def test_owned_and_colocated_compute_is_scope_2():
    assert scope_for(FacilityKind.OWNED) == Scope.SCOPE2
    assert scope_for(FacilityKind.COLOCATION) == Scope.SCOPE2


def test_public_cloud_is_scope_3_category_1():
    assert scope_for(FacilityKind.CLOUD) == Scope.SCOPE3_CAT1 == "scope3_cat1"


def test_it_takes_the_stored_strings_for_facility_kinds():
    assert scope_for("cloud") == Scope.SCOPE3_CAT1


def test_it_refuses_an_unknown_facility_kind():
    with pytest.raises(CalculationError):
        scope_for("edge")


def test_it_gives_grams_per_thousand_inferences():
    # 2 kg over 50,000 inferences = 40 g per 1,000.
    assert grams_per_1k_inferences(2.0, 50_000) == pytest.approx(40.0)
    assert grams_per_1k_inferences(2.0, 50_000) == 2.0 * 1000.0 / 50_000 * 1000.0


def test_it_gives_grams_per_million_tokens():
    # 3 kg over 600 million tokens = 5 g per million.
    assert grams_per_1m_tokens(3.0, 600_000_000) == pytest.approx(5.0)
    assert grams_per_1m_tokens(3.0, 600_000_000) == 3.0 * 1000.0 / 600_000_000 * 1000000.0


@pytest.mark.parametrize("count", [None, 0])
def test_it_has_no_intensity_without_a_count(count):
    assert grams_per_1k_inferences(1.0, count) is None
    assert grams_per_1m_tokens(1.0, count) is None


def test_it_refuses_negative_counts_and_emissions():
    with pytest.raises(CalculationError):
        grams_per_1k_inferences(1.0, -5)
    with pytest.raises(CalculationError):
        grams_per_1m_tokens(-1.0, 5)
    with pytest.raises(CalculationError):
        grams_per_1m_tokens(math.nan, 5)


def test_reports_convert_to_mwh_and_tonnes():
    assert kwh_to_mwh(1287000.0) == 1287.0
    assert kg_to_tonnes(552123.0) == 552.123
    # A restatement's difference may be negative.
    assert kg_to_tonnes(-500.0) == -0.5
