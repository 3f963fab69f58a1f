from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.calculation.errors import CalculationError
from inventory.calculation.market import (
    HIERARCHY,
    Consumption,
    Instrument,
    InstrumentKind,
    allocate_market_based,
    allocated_kwh_by_instrument,
    explain,
)

JAN = (date(2026, 1, 1), date(2026, 1, 31))
FEB = (date(2026, 2, 1), date(2026, 2, 28))
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
RESIDUAL = {"FR": 0.431, "DE": 0.65}
GRID = {"FR": 0.052, "DE": 0.38, "PL": 0.66}


def line(key, kwh, period=JAN, zone="FR"):
    return Consumption(key=key, zone=zone, period_start=period[0], period_end=period[1], kwh=kwh)


def instrument(id, mwh, kind=InstrumentKind.EAC, zone="FR", valid=YEAR, kg=0.0, ref=None):
    return Instrument(
        id=id,
        kind=kind,
        zone=zone,
        valid_from=valid[0],
        valid_to=valid[1],
        mwh=mwh,
        kg_per_kwh=kg,
        reference=ref if ref is not None else f"REF-{id}",
    )


def allocate(consumption, instruments, residual_mix=RESIDUAL, grid_average=GRID):
    return allocate_market_based(
        consumption=consumption,
        instruments=instruments,
        residual_mix=residual_mix,
        grid_average=grid_average,
    )


def test_it_covers_consumption_with_a_certificate_and_prices_the_rest_at_residual_mix():
    [result] = allocate([line("research:atlas:FR:2026-01", 150.0)], [instrument(3, 0.12)])
    assert [(a.instrument_id, a.kind, a.kwh, a.kg) for a in result.covered] == [
        (3, InstrumentKind.EAC, 120.0, 0.0)
    ]
    assert result.residual_kwh == 30.0
    assert (result.residual_factor_kg_per_kwh, result.residual_basis) == (0.431, "residual_mix")
    assert result.kg == 30.0 * 0.431
    assert result.covered_kwh == 120.0


def test_it_explains_a_line_in_words():
    [result] = allocate([line("a", 150.0)], [instrument(3, 0.12, ref="GO-2026-001")])
    assert explain(result) == (
        "120.0 kWh covered by EAC #3 GO-2026-001 at 0 kg/kWh; 30.0 kWh at residual mix 0.431 kg/kWh"
    )


def test_a_fully_covered_line_has_no_residual():
    [result] = allocate([line("a", 100.0)], [instrument(1, 1.0)])
    assert (result.residual_kwh, result.kg) == (0.0, 0.0)
    assert explain(result) == "100.0 kWh covered by EAC #1 REF-1 at 0 kg/kWh"


def test_it_follows_the_hierarchy_whatever_the_input_order():
    instruments = [
        instrument(1, 1.0, kind=InstrumentKind.SUPPLIER_SPECIFIC, kg=0.2),
        instrument(2, 1.0, kind=InstrumentKind.GREEN_TARIFF, kg=0.01),
        instrument(3, 1.0, kind=InstrumentKind.PPA, kg=0.005),
        instrument(4, 0.1, kind=InstrumentKind.EAC),
    ]
    [result] = allocate([line("a", 2500.0)], instruments)
    assert [(a.kind, a.kwh) for a in result.covered] == [
        (InstrumentKind.EAC, 100.0),
        (InstrumentKind.PPA, 1000.0),
        (InstrumentKind.GREEN_TARIFF, 1000.0),
        (InstrumentKind.SUPPLIER_SPECIFIC, 400.0),
    ]
    # The line's kg: allocations left to right, then the (empty) residual.
    assert result.kg == 0.0 + 1000.0 * 0.005 + 1000.0 * 0.01 + 400.0 * 0.2 + 0.0 * 0.431
    assert HIERARCHY == (
        InstrumentKind.EAC,
        InstrumentKind.PPA,
        InstrumentKind.GREEN_TARIFF,
        InstrumentKind.SUPPLIER_SPECIFIC,
    )


def test_within_a_kind_the_earliest_valid_instrument_then_the_lowest_id_goes_first():
    instruments = [
        instrument(9, 0.05, valid=(date(2026, 1, 1), date(2026, 12, 31))),
        instrument(7, 0.05, valid=(date(2025, 7, 1), date(2026, 6, 30))),
        instrument(8, 0.05, valid=(date(2026, 1, 1), date(2026, 12, 31))),
    ]
    [result] = allocate([line("a", 120.0)], instruments)
    assert [(a.instrument_id, a.kwh) for a in result.covered] == [(7, 50.0), (8, 50.0), (9, 20.0)]


def test_an_instrument_only_covers_its_own_market():
    [result] = allocate([line("a", 100.0, zone="DE")], [instrument(1, 1.0, zone="FR")])
    assert result.covered == () and result.residual_kwh == 100.0
    assert result.kg == 100.0 * 0.65


def test_an_instrument_only_covers_consumption_within_its_validity():
    january_only = instrument(1, 1.0, valid=JAN)
    lines = [
        line("jan", 10.0, period=JAN),
        line("feb", 10.0, period=FEB),
        line("jan-feb", 10.0, period=(JAN[0], FEB[1])),
    ]
    jan, feb, both = allocate(lines, [january_only])
    assert jan.covered_kwh == 10.0  # both ends inclusive
    assert feb.covered == () and both.covered == ()


def test_an_instruments_mwh_is_never_claimed_twice():
    shared = instrument(5, 0.15)
    jan, feb = allocate([line("jan", 100.0, JAN), line("feb", 100.0, FEB)], [shared])
    assert (jan.covered_kwh, feb.covered_kwh) == (100.0, 50.0)
    assert feb.residual_kwh == 50.0
    assert allocated_kwh_by_instrument([jan, feb]) == {5: 150.0}


def test_earlier_consumption_is_covered_first_and_lines_come_back_in_input_order():
    shared = instrument(5, 0.1)
    feb, jan = allocate([line("feb", 100.0, FEB), line("jan", 100.0, JAN)], [shared])
    assert (feb.key, jan.key) == ("feb", "jan")
    assert (jan.covered_kwh, feb.covered_kwh) == (100.0, 0.0)


def test_lines_of_one_period_are_covered_in_key_order():
    b, a = allocate([line("b", 100.0), line("a", 100.0)], [instrument(1, 0.1)])
    assert (a.covered_kwh, b.covered_kwh) == (100.0, 0.0)


def test_it_falls_back_to_the_grid_average_and_flags_it():
    [result] = allocate([line("a", 200.0, zone="PL")], [])
    assert (result.residual_factor_kg_per_kwh, result.residual_basis) == (0.66, "grid_average")
    assert result.kg == 200.0 * 0.66
    assert explain(result) == "200.0 kWh at grid average 0.66 kg/kWh (no residual mix for PL)"


def test_it_refuses_a_zone_with_neither_residual_mix_nor_grid_average():
    with pytest.raises(CalculationError, match="XX"):
        allocate([line("a", 1.0, zone="XX")], [])


def test_it_refuses_duplicate_instruments_and_duplicate_lines():
    with pytest.raises(CalculationError, match="instrument ids"):
        allocate([line("a", 1.0)], [instrument(1, 1.0), instrument(1, 1.0)])
    with pytest.raises(CalculationError, match="keys"):
        allocate([line("a", 1.0), line("a", 2.0)], [])


def test_a_line_without_consumption_prices_to_zero():
    [result] = allocate([line("a", 0.0)], [instrument(1, 1.0)])
    assert (result.covered, result.residual_kwh, result.kg) == ((), 0.0, 0.0)
    assert explain(result) == "0.0 kWh at residual mix 0.431 kg/kWh"


def test_an_exhausted_or_empty_instrument_is_skipped():
    [result] = allocate([line("a", 10.0)], [instrument(1, 0.0), instrument(2, 0.01)])
    assert [a.instrument_id for a in result.covered] == [2]


def test_it_explains_each_kind_and_a_missing_reference():
    instruments = [
        instrument(1, 0.001, kind=InstrumentKind.PPA, kg=0.0, ref=""),
        instrument(2, 0.001, kind=InstrumentKind.SUPPLIER_SPECIFIC, kg=0.125, ref="EDF-2026"),
    ]
    [result] = allocate([line("a", 2.5)], instruments)
    assert explain(result) == (
        "1.0 kWh covered by PPA #1 at 0 kg/kWh; "
        "1.0 kWh covered by supplier-specific rate #2 EDF-2026 at 0.125 kg/kWh; "
        "0.5 kWh at residual mix 0.431 kg/kWh"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"valid_from": date(2026, 2, 1), "valid_to": date(2026, 1, 1)},
        {"mwh": -1.0},
        {"mwh": float("nan")},
        {"kg_per_kwh": -0.1},
        {"kind": "offset"},
        {"valid_from": datetime(2026, 1, 1)},
        {"zone": ""},
    ],
)
def test_it_refuses_an_invalid_instrument(overrides):
    arguments = {
        "id": 1,
        "kind": "eac",
        "zone": "FR",
        "valid_from": date(2026, 1, 1),
        "valid_to": date(2026, 12, 31),
        "mwh": 1.0,
        "kg_per_kwh": 0.0,
        "reference": "GO-1",
    } | overrides
    with pytest.raises(CalculationError):
        Instrument(**arguments)


@pytest.mark.parametrize(
    "overrides",
    [{"kwh": -1.0}, {"period_start": date(2026, 3, 1)}, {"key": ""}, {"period_end": "2026-01"}],
)
def test_it_refuses_an_invalid_line(overrides):
    arguments = {
        "key": "a",
        "zone": "FR",
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 1, 31),
        "kwh": 1.0,
    } | overrides
    with pytest.raises(CalculationError):
        Consumption(**arguments)


def test_it_refuses_a_negative_residual_factor():
    with pytest.raises(CalculationError):
        allocate([line("a", 1.0)], [], residual_mix={"FR": -0.1})


def test_instrument_kinds_are_the_stored_strings():
    assert [k.value for k in InstrumentKind] == ["eac", "ppa", "green_tariff", "supplier_specific"]


# Property tests: random portfolios of instruments against random consumption.

MONTHS = [(date(2026, m, 1), date(2026, m, 28)) for m in range(1, 7)]
ZONES = ["FR", "DE", "PL"]


@st.composite
def portfolios(draw):
    lines = [
        line(f"line-{n}", draw(st.floats(0, 5000)), period=draw(st.sampled_from(MONTHS)), zone=z)
        for n, z in enumerate(draw(st.lists(st.sampled_from(ZONES), max_size=12)))
    ]
    instruments = []
    for n in range(draw(st.integers(0, 8))):
        first, last = sorted(draw(st.lists(st.sampled_from(MONTHS), min_size=2, max_size=2)))
        instruments.append(
            instrument(
                n + 1,
                draw(st.floats(0, 5)),
                kind=draw(st.sampled_from(list(InstrumentKind))),
                zone=draw(st.sampled_from(ZONES)),
                valid=(first[0], last[1]),
                kg=draw(st.sampled_from([0.0, 0.02, 0.3])),
            )
        )
    return lines, instruments


@given(portfolios())
def test_no_instrument_ever_gives_more_than_its_mwh(portfolio):
    lines, instruments = portfolio
    claimed = allocated_kwh_by_instrument(allocate(lines, instruments))
    for inst in instruments:
        assert claimed.get(inst.id, 0.0) <= inst.mwh * 1000.0 * (1 + 1e-12)


@given(portfolios())
def test_every_kwh_is_either_covered_or_residual(portfolio):
    lines, instruments = portfolio
    for given_line, result in zip(lines, allocate(lines, instruments), strict=True):
        assert result.key == given_line.key and result.kwh == given_line.kwh
        assert result.residual_kwh >= 0.0
        assert result.covered_kwh + result.residual_kwh == pytest.approx(given_line.kwh, abs=1e-9)


@given(portfolios())
def test_allocations_respect_market_and_validity(portfolio):
    lines, instruments = portfolio
    by_id = {inst.id: inst for inst in instruments}
    for given_line, result in zip(lines, allocate(lines, instruments), strict=True):
        for allocation in result.covered:
            assert by_id[allocation.instrument_id].applies_to(given_line)
            assert allocation.kwh > 0.0


@given(portfolios(), st.randoms())
def test_the_result_does_not_depend_on_input_order(portfolio, random):
    lines, instruments = portfolio
    expected = {result.key: result for result in allocate(lines, instruments)}
    shuffled_lines, shuffled_instruments = list(lines), list(instruments)
    random.shuffle(shuffled_lines)
    random.shuffle(shuffled_instruments)
    for result in allocate(shuffled_lines, shuffled_instruments):
        assert result == expected[result.key]
