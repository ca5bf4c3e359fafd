"""The outcomes chart on the patient page, in a real browser at the desk's two widths (1440 and 1024 pixels).

Chart.js draws each instrument's chart from the data the page gives it (scheduling/pages/outcomes_chart.py,
tested without a browser in tests/scheduling/pages/test_outcomes_chart_data.py); here: that every chart is
drawn under the page's Content-Security-Policy, that no label runs off the canvas, and that the values and
the verdicts can be read without hovering.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from patients import measures
from scheduling.charting import outcomes
from tests.browser.accessibility import blocking_violations
from tests.browser.front_desk.conftest import WIDTHS
from tests.factories import TreatmentCourseFactory, standard_protocol

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HUMAN_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{1,2}, \d{4}$")
# Weekly PHQ-9s falling from 19 to 4 (days ago: answers), GAD-7s 12 then 9, MADRS 30 then 14.
PHQ9S = {22: [3, 3, 3, 2, 2, 2, 2, 2, 0], 15: [2, 2, 2, 1, 1, 1, 1, 1, 0], 8: [1, 1, 1, 1, 1, 1, 1, 1, 0],
         1: [1, 1, 1, 1, 0, 0, 0, 0, 0]}
GAD7S = {22: [2, 2, 2, 2, 2, 1, 1], 8: [2, 2, 1, 1, 1, 1, 1]}
MADRSES = {22: [3] * 10, 8: [2, 2, 2, 2, 2, 1, 1, 1, 1, 0]}

# Per canvas: each right-hand band label's right edge and the canvas's width, and whether every point is in the
# plot; read from Chart.js's own layout, since a canvas has no DOM to inspect.
CHART_LAYOUT = """canvas => {
  const chart = Chart.getChart(canvas);
  const bands = chart.scales.bands, ctx = chart.ctx;
  ctx.save();
  ctx.font = Chart.helpers.toFont(bands.options.ticks.font).string;
  const start = bands.left + bands.options.grid.tickLength + bands.options.ticks.padding;
  const labels = bands.ticks.map(tick => {
    const lines = [].concat(tick.label);
    return {text: lines.join(" "), right: start + Math.max(...lines.map(line => ctx.measureText(line).width))};
  });
  ctx.restore();
  const area = chart.chartArea;
  const inside = chart.getDatasetMeta(0).data.every(
    point => point.x >= area.left && point.x <= area.right && point.y >= area.top && point.y <= area.bottom);
  return {width: chart.width, labels: labels, pointsInside: inside};
}"""


def _record(patient, by, site, day, instrument, answers_by_days_ago):
    for days_ago, items in answers_by_days_ago.items():
        outcomes.record_measure(by=by, patient=patient, instrument=instrument, items=items,
                                taken_at=site.at(day - timedelta(days=days_ago), time(12)))


def _boxes_overlap(first, second) -> bool:
    return not (first["x"] + first["width"] <= second["x"] or second["x"] + second["width"] <= first["x"]
                or first["y"] + first["height"] <= second["y"] or second["y"] + second["height"] <= first["y"])


@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_the_outcomes_chart_shows_phq9_gad7_and_madrs_with_bands_values_and_verdicts(
        nurse, width, patient, site, site_today, desk_user, clinician_user):
    # given a course started four weeks ago with weekly PHQ-9s (19 to 4), two GAD-7s and two MADRS ratings
    course = TreatmentCourseFactory(patient=patient, protocol=standard_protocol("esketamine-trd"),
                                    start_date=site_today - timedelta(days=28), created_by=desk_user)
    _record(patient, clinician_user, site, site_today, measures.PHQ9, PHQ9S)
    _record(patient, clinician_user, site, site_today, measures.GAD7, GAD7S)
    _record(patient, clinician_user, site, site_today, measures.MADRS, MADRSES)
    problems = []
    nurse.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    nurse.on("pageerror", lambda error: problems.append(str(error)))

    # when the clinician opens the patient's page at the desk's width
    nurse.set_viewport_size({"width": width, "height": 900})
    nurse.goto(f"/patients/{patient.pk}/")

    # then there is a chart per instrument, PHQ-9 first, each drawn by the script the CSP allows
    card = nurse.get_by_test_id("outcomes")
    expect(card).to_contain_text(course.protocol.name)
    figures = card.get_by_test_id("outcome-figure")
    expect(figures).to_have_count(3)
    assert [figures.nth(i).get_attribute("data-instrument") for i in range(3)] == ["phq9", "gad7", "madrs"]
    for index in range(3):
        expect(figures.nth(index).get_by_test_id("outcome-chart")).to_have_attribute("data-drawn", "true")
    expect(card.get_by_test_id("outcome-not-recorded")).to_have_count(0)

    # and each value can be read without hovering: in the table beside or under its chart, dated as the clinic does
    phq9 = card.locator('[data-testid=outcome-figure][data-instrument="phq9"]')
    rows = phq9.get_by_test_id("outcome-point")
    expect(rows).to_have_count(4)
    assert [rows.nth(i).get_attribute("data-total") for i in range(4)] == ["19", "11", "8", "4"]
    expect(rows.first).to_have_attribute("data-kind", "baseline")
    expect(rows.first).to_contain_text("Moderately severe")
    expect(rows.last).to_contain_text("Response, remission")
    for i in range(4):
        assert HUMAN_DATE.match(rows.nth(i).locator("td").first.inner_text().strip())
    expect(phq9.get_by_role("table")).to_be_visible()

    # and the verdicts are words beside the chart, never on top of its last point
    expect(phq9).to_contain_text("baseline 19, latest 4 (4 measures), change -15")
    for verdict in ("outcome-response", "outcome-remission"):
        flag = phq9.get_by_test_id(verdict)
        expect(flag).to_be_visible()
        assert not _boxes_overlap(flag.bounding_box(), phq9.get_by_test_id("outcome-chart").bounding_box())
    expect(phq9.get_by_test_id("outcome-response-line")).to_contain_text("Response: 9.5 or less (half the baseline)")
    expect(phq9.get_by_test_id("outcome-remission-line")).to_contain_text("Remission: 4 or less")
    gad7 = card.locator('[data-testid=outcome-figure][data-instrument="gad7"]')
    expect(gad7.get_by_test_id("outcome-no-response")).to_be_visible()
    expect(gad7.get_by_test_id("outcome-point")).to_have_count(2)
    madrs = card.locator('[data-testid=outcome-figure][data-instrument="madrs"]')
    expect(madrs.get_by_test_id("outcome-response")).to_be_visible()
    expect(madrs.get_by_test_id("outcome-remission")).to_have_count(0)
    expect(madrs.get_by_test_id("outcome-remission-line")).to_contain_text("Remission: 10 or less")

    # and every band is named whole, in the key and on the chart's right-hand axis, inside the canvas
    expect(phq9.get_by_test_id("outcome-band")).to_have_count(5)
    expect(phq9.locator('[data-testid=outcome-band][data-band="moderately_severe"]')).to_have_text(
        "Moderately severe 15–19")
    expect(madrs.get_by_test_id("outcome-band")).to_have_count(4)
    for index in range(3):
        layout = figures.nth(index).get_by_test_id("outcome-chart").evaluate(CHART_LAYOUT)
        assert layout["pointsInside"], layout
        for label in layout["labels"]:
            assert label["right"] <= layout["width"], f"{label['text']} runs off the canvas at {width}px: {layout}"
    assert "Moderately severe 15–19" in [label["text"] for label in
                                         phq9.get_by_test_id("outcome-chart").evaluate(CHART_LAYOUT)["labels"]]

    # and the page has no script error, no refused script, and nothing axe calls serious
    assert problems == []
    assert blocking_violations(nurse) == []
