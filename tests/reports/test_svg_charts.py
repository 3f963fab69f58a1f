import xml.etree.ElementTree as ET

import pytest

from reports.charts import report_svgs
from reports.svg_charts import bar_chart, column_chart, nice_ticks, share_bar

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own SVG, and it must be well-formed XML


def rects(svg: str) -> list[dict]:
    return [r.attrib for r in parse(svg).iter(f"{SVG}rect")]


def texts(svg: str) -> list[str]:
    return [t.text for t in parse(svg).iter(f"{SVG}text")]


class TestNiceTicks:
    @pytest.mark.parametrize(
        ("top", "ticks"),
        [
            (23_000, [0, 5_000, 10_000, 15_000, 20_000, 25_000]),
            (0.9, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
            (100, [0, 20, 40, 60, 80, 100]),
            (0, [0, 1]),
        ],
    )
    def test_round_steps_up_to_the_largest_value(self, top, ticks):
        assert nice_ticks(top) == pytest.approx(ticks)


class TestCharts:
    def test_bars_are_to_scale(self):
        svg = bar_chart(["a", "b"], [("location", [10.0, 5.0])], title="T", x_title="t CO2e")
        bars = [r for r in rects(svg) if float(r["height"]) == 8]
        widths = [float(r["width"]) for r in bars]
        assert widths[0] == pytest.approx(2 * widths[1])
        assert "10" in texts(svg)  # the axis reaches the largest value

    def test_columns_and_line_with_a_legend(self):
        svg = column_chart(
            ["Jan", "Feb"], [("s2", [1.0, 3.0])], [("cloud", [2.0, 0.5])], title="T", y_title="t"
        )
        tree = parse(svg)
        assert len(list(tree.iter(f"{SVG}polyline"))) == 1
        assert {"s2", "cloud", "Jan", "Feb"} <= set(texts(svg))

    def test_shares_fill_the_bar_and_labels_are_escaped(self):
        svg = share_bar([("<EAC>", 0.25), ("Residual mix", 0.75)], title="T", x_title="%")
        assert "&lt;EAC&gt;: 25.0 %" in svg
        widths = [float(r["width"]) for r in rects(svg) if float(r["height"]) == 34]
        assert widths[0] * 3 == pytest.approx(widths[1])

    def test_an_empty_quarter_draws_without_dividing_by_zero(self):
        document = {
            "period": {"end": "2026-04-01"},
            "trend": [
                {
                    "month": month,
                    **dict.fromkeys(
                        ("scope2_location_t", "scope2_market_t", "scope3_cat1_location_t"), value
                    ),
                }
                for month, value in (("2026-01", 0.0), ("2026-02", None))
            ],
            "market": {"categories": []},
            "breakdowns": {"team": [], "model": []},
        }
        drawn = report_svgs(document)
        assert set(drawn) == {"trend", "coverage", "teams", "models"}
        for svg in drawn.values():
            parse(svg)
