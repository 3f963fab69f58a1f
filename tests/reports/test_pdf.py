"""The audit PDF's print-out of a report document (reports.pdf.for_print): a breakdown longer
than PRINTED_LINES prints its largest lines and one line for the rest, whose figures are the
rest's sums."""

from reports.pdf import PRINTED_LINES, for_print


def line(n: int, **figures) -> dict:
    """A team line of 1 record, 1 MWh, 0.1 t location-, 0.05 t market-based."""
    return {
        "key": str(n),
        "label": f"Team {n:03d}",
        "record_count": 1,
        "mwh": 1.0,
        "share": 0.01,
        "location_t": 0.1,
        "market_t": 0.05,
        "market_complete": True,
        **figures,
    }


def printed_rest(rest: list[dict]) -> dict:
    """The remainder line printed for a team breakdown of 39 lines + `rest`."""
    figures = {"water_onsite_m3": None, "water_records": 0, "water_offsite_m3": 1.0}
    figures |= {"water_offsite_records": 1, "embodied_t": 0.5}
    shown = [line(n, **figures) for n in range(PRINTED_LINES - 1)]
    document = {
        "breakdowns": {"team": shown + rest, "model": [], "location": []},
        "intensity": [],
        "restatements": [],
        "scope2": {"record_count": 0},
        "scope3_cat1": {"record_count": 0},
    }
    printed = for_print(document)["breakdowns"]["team"]
    assert len(printed) == PRINTED_LINES and printed[:-1] == shown
    return printed[-1]


def test_the_rest_line_sums_water_and_embodied_as_the_rollups_do():
    rest = printed_rest(
        [
            line(40, water_onsite_m3=None, water_records=0, water_offsite_m3=1.25,
                 water_offsite_records=4, embodied_t=None),
            line(41, water_onsite_m3=2.5, water_records=5, water_offsite_m3=2.0,
                 water_offsite_records=6, embodied_t=None),
            line(42, water_onsite_m3=1.0, water_records=2, water_offsite_m3=0.75,
                 water_offsite_records=3, embodied_t=None),
        ]
    )  # fmt: skip
    assert rest["label"] == "3 other teams (see the XLSX export)"
    # 3 lines × 1 record, 1 MWh, 0.1 t, 0.05 t.
    assert (rest["record_count"], rest["mwh"]) == (3, 3.0)
    assert (round(rest["location_t"], 9), round(rest["market_t"], 9)) == (0.3, 0.15)
    # On-site water of the two lines that have some: 2.5 + 1.0 = 3.5 m³ from 0 + 5 + 2 records;
    # off-site 1.25 + 2.0 + 0.75 = 4.0 m³ from 4 + 6 + 3 = 13 records; no embodied figure at all.
    assert (rest["water_onsite_m3"], rest["water_records"]) == (3.5, 7)
    assert (rest["water_offsite_m3"], rest["water_offsite_records"]) == (4.0, 13)
    assert rest["embodied_t"] is None


def test_a_figure_one_rest_line_was_locked_without_is_not_computed():
    rest = printed_rest([line(40, water_onsite_m3=1.0, embodied_t=0.5), line(41, embodied_t=0.25)])
    # Line 41 (a version locked before water was reported) has no water: not summed.
    assert "water_onsite_m3" not in rest and "water_records" not in rest
    assert rest["embodied_t"] == 0.75  # 0.5 + 0.25
