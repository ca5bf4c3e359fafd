"""The dashboard's charts: matplotlib's SVG made safe to put inline (no style element or attribute, no script, ids
of its own), accessible (role, title, description), every mark labelled with its value, and drawn once per data."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.core.cache import cache

from scheduling.reports import charts
from tests.scheduling.reports.numbers_sample import NOVEMBER

SVG = "{http://www.w3.org/2000/svg}"


def sample_table(figure_key: str, table_key: str) -> dict:
    figure = next(figure for figure in NOVEMBER["figures"] if figure["key"] == figure_key)
    return copy.deepcopy(next(table for table in figure["tables"] if table["key"] == table_key))


BAR = sample_table("chair_utilisation", "by_site")  # Midtown 61.4%, "=Westside" no data
HEAT_MAP = sample_table("chair_utilisation", "by_weekday_hour")  # 5 weekdays x 10 hours
GROUPED = sample_table("outcomes", "response_remission")  # 3 groups x response, remission
LINE = {**sample_table("no_shows", "by_hour"), "chart": "line"}  # 10 hours


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


def draw(table: dict, chart_id: str = "chart-test") -> str:
    return charts.chart_svg(table, chart_id=chart_id, title="Chair utilisation: by site, November 2026")


@pytest.mark.parametrize(("table", "marks"), [(BAR, 2), (HEAT_MAP, 50), (GROUPED, 6), (LINE, 10)],
                         ids=["bar", "heatmap", "grouped_bar", "line"])
def test_each_chart_is_an_image_with_a_title_a_description_and_one_mark_per_value(table, marks):
    # when
    svg = draw(table)
    # then
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-test-title chart-test-desc"
    assert root.find(f"{SVG}title").get("id") == "chart-test-title"
    assert root.find(f"{SVG}title").text == "Chair utilisation: by site, November 2026"
    assert root.find(f"{SVG}desc").get("id") == "chart-test-desc"
    assert len(root.findall(f".//{SVG}g[@class='mark']")) == marks


def test_nothing_in_a_chart_can_style_the_page_or_run():
    # given a site whose name is markup
    table = copy.deepcopy(BAR)
    table["rows"][0]["site"] = '<script>alert("x")</script><style>body{display:none}</style>'
    # when
    svg = draw(table)
    # then the name is words in the chart, and the chart has no style element, style attribute or script
    assert "<script" not in svg and "<style" not in svg and " style=" not in svg and " on" not in svg.lower()
    assert "&lt;script&gt;alert(" in svg
    assert all(not name.startswith("on") for element in ET.fromstring(svg).iter() for name in element.attrib)


def test_every_reference_in_a_chart_stays_inside_it_under_its_own_ids():
    # when the same table is drawn twice on one page
    first, second = draw(GROUPED, "chart-a"), draw(GROUPED, "chart-b")
    # then no id is shared, and each reference points at an id of its own chart
    ids = [set(re.findall(r' id="([^"]+)"', svg)) for svg in (first, second)]
    assert ids[0] and not ids[0] & ids[1]
    assert all(identifier.startswith("chart-a-") for identifier in ids[0])
    references = set(re.findall(r'href="#([^"]+)"|url\(#([^)]+)\)', first))
    assert references and {ref for pair in references for ref in pair if ref} <= ids[0]


def test_every_bar_and_point_has_its_value_written_and_a_missing_value_says_so():
    bar_words = [text.text for text in ET.fromstring(draw(BAR)).iter(f"{SVG}text")]
    assert "61.4%" in bar_words and "no data" in bar_words
    line_words = [text.text for text in ET.fromstring(draw(LINE)).iter(f"{SVG}text")]
    assert {"0.0%", "5.0%", "10.0%", "15.0%"} <= set(line_words)
    assert {"08:00", "17:00", "Hour"} <= set(line_words)  # the categories and the axis's label


def test_each_heat_map_cell_has_its_value_written_in_it():
    words = [text.text for text in ET.fromstring(draw(HEAT_MAP)).iter(f"{SVG}text")]
    for row in HEAT_MAP["rows"]:
        assert f"{row['utilisation']:.1f}" in words
    assert {"Monday", "Friday", "08:00", "17:00", "Weekday", "Hour", "Utilisation (%)"} <= set(words)


def test_series_are_drawn_in_the_colour_blind_safe_palette():
    fills = {path.get("fill") for mark in ET.fromstring(draw(GROUPED)).iter(f"{SVG}g")
             if mark.get("class") == "mark" for path in mark.iter(f"{SVG}path")}
    assert fills == {charts.PALETTE[0].lower(), charts.PALETTE[1].lower()}


def test_counts_summed_by_postgresql_draw_like_any_number():
    # given sessions counted as Decimal, as PostgreSQL's sums arrive
    table = sample_table("sessions_by_phase", "by_phase")
    for row in table["rows"]:
        row["sessions"] = Decimal(row["sessions"])
    # when
    words = [text.text for text in ET.fromstring(draw(table)).iter(f"{SVG}text")]
    # then
    assert {"40", "17"} <= set(words)


def test_long_category_names_go_down_the_side_each_on_at_most_two_lines():
    # given protocols' names far longer than a column's width
    table = sample_table("sessions_by_phase", "by_phase")
    table["rows"] = [{"phase": f"IV ketamine: six infusions over 2-3 weeks, then monthly boosters, phase {number}",
                      "sessions": number} for number in range(1, 7)]
    # when
    root = ET.fromstring(draw(table))
    # then every phase has its bar and its value, and its name is there, wrapped and cut rather than overprinted
    assert len(root.findall(f".//{SVG}g[@class='mark']")) == 6
    words = [text.text for text in root.iter(f"{SVG}text")]
    assert {"1", "2", "3", "4", "5", "6"} <= set(words)
    # (matplotlib writes each line of a name as a text of its own)
    assert words.count("IV ketamine: six infusions over") == 6
    assert words.count("2-3 weeks, then monthly boosters,…") == 6


def test_a_table_with_no_chart_or_no_value_draws_nothing():
    assert draw({**BAR, "chart": "none"}) is None
    assert draw({**BAR, "rows": []}) is None
    assert draw({**BAR, "rows": [{"site": "Midtown", "utilisation": None}]}) is None


def test_a_chart_is_drawn_once_for_the_same_data_and_again_when_the_data_changes(monkeypatch):
    # given
    drawn = []
    real_draw = charts._draw
    monkeypatch.setattr(charts, "_draw", lambda table: drawn.append(table) or real_draw(table))
    # when
    first = draw(BAR)
    again = draw(BAR)
    changed = draw({**BAR, "rows": [{"site": "Midtown", "utilisation": 70.0}]})
    # then
    assert first == again and changed != first
    assert len(drawn) == 2


@pytest.mark.parametrize(("value", "unit", "words"), [
    (61.4, "percent", "61.4%"), (7.5, "rate", "7.5%"), (3.25, "hours", "3.2 h"), (1524, "hours", "1,524.0 h"),
    (1234, "count", "1,234"),
    (None, "percent", "–"), (12.5, None, "12.5"),
])
def test_values_are_written_in_their_units(value, unit, words):
    assert charts.format_value(value, unit) == words
