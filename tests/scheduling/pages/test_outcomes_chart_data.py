"""What the outcomes chart is given (scheduling/pages/outcomes_chart.py): bands, points, thresholds and verdicts.

Pure data, no database: the browser test (tests/browser/clinician/test_outcomes_chart.py) checks the drawing.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from patients import measures
from scheduling.pages.outcomes_chart import outcome_chart

TUESDAY = date(2026, 3, 3)


def _points(totals, *, every_days=7):
    return [{"date": TUESDAY + timedelta(days=every_days * index), "total": total}
            for index, total in enumerate(totals)]


def test_each_instrument_comes_with_its_own_bands_and_remission_cut_off():
    phq9, gad7, madrs = (outcome_chart(name, _points([12, 8]))
                         for name in (measures.PHQ9, measures.GAD7, measures.MADRS))
    assert [(band["label"], band["low"], band["high"]) for band in phq9["bands"]] == [
        ("Minimal", 0, 4), ("Mild", 5, 9), ("Moderate", 10, 14), ("Moderately severe", 15, 19), ("Severe", 20, 27)]
    assert [(band["label"], band["low"], band["high"]) for band in gad7["bands"]] == [
        ("Minimal", 0, 4), ("Mild", 5, 9), ("Moderate", 10, 14), ("Severe", 15, 21)]
    assert [(band["label"], band["low"], band["high"]) for band in madrs["bands"]] == [
        ("Normal", 0, 6), ("Mild", 7, 19), ("Moderate", 20, 34), ("Severe", 35, 60)]
    assert (phq9["data"]["max"], gad7["data"]["max"], madrs["data"]["max"]) == (27, 21, 60)
    assert (phq9["remission_at"], gad7["remission_at"], madrs["remission_at"]) == (4, 4, 10)


def test_severe_is_always_the_darkest_shade():
    five = outcome_chart(measures.PHQ9, _points([10]))["bands"]
    four = outcome_chart(measures.MADRS, _points([10]))["bands"]
    assert [band["shade"] for band in five] == [0, 1, 2, 3, 4]
    assert [band["shade"] for band in four] == [0, 1, 3, 4]


def test_points_are_days_from_the_baseline_with_their_band_and_what_they_reached():
    # given PHQ-9s of 20, 14, 10 and 4, weekly
    chart = outcome_chart(measures.PHQ9, _points([20, 14, 10, 4]))
    points = chart["data"]["points"]
    # then the x of each point is its day counted from the baseline, and it says what it reached
    assert [point["day"] for point in points] == [0, 7, 14, 21]
    assert [point["short"] for point in points] == ["Mar 3", "Mar 10", "Mar 17", "Mar 24"]
    assert [point["band"] for point in points] == ["Severe", "Moderate", "Moderate", "Minimal"]
    assert [point["kind"] for point in points] == ["baseline", "follow-up", "follow-up", "follow-up"]
    assert [point["reached"] for point in points] == [[], [], ["response"], ["response", "remission"]]
    # and the table rows carry the same, with the change from baseline and the clinic's date format
    assert [row["change"] for row in chart["rows"]] == [None, -6, -10, -16]
    assert chart["rows"][0]["date_words"] == "Tue Mar 3, 2026"


def test_response_is_half_the_baseline_or_less_and_remission_the_cut_off():
    # given a baseline of 19: a response is 9.5 or less, so 10 is not and 9 is
    chart = outcome_chart(measures.PHQ9, _points([19, 10]))
    assert chart["response_at"] == 9.5 and chart["data"]["response_at"] == 9.5
    assert not chart["response"] and not chart["remission"]
    assert (chart["baseline"], chart["latest"], chart["change"]) == (19, 10, -9)
    assert outcome_chart(measures.PHQ9, _points([19, 9]))["response"]
    # and a MADRS of 10 is in remission, 11 is not
    assert outcome_chart(measures.MADRS, _points([30, 10]))["remission"]
    assert not outcome_chart(measures.MADRS, _points([30, 11]))["remission"]


def test_a_single_measure_is_only_a_baseline():
    chart = outcome_chart(measures.PHQ9, _points([18]))
    assert chart["count"] == 1 and chart["data"]["points"][0]["kind"] == "baseline"
    assert not chart["response"] and not chart["remission"]
    assert chart["data"]["points"][0]["reached"] == []


def test_a_baseline_of_nought_has_no_response_line():
    chart = outcome_chart(measures.GAD7, _points([0, 0]))
    assert chart["response_at"] is None and not chart["response"]
    assert chart["remission"]


def test_the_summary_a_screen_reader_hears_lists_every_value():
    chart = outcome_chart(measures.GAD7, _points([12, 9, 6], every_days=14))
    assert chart["summary"] == "GAD-7 over the course: Mar 3: 12, Mar 17: 9, Mar 31: 6"


@pytest.mark.parametrize("instrument", [measures.PHQ9, measures.GAD7, measures.MADRS])
def test_the_chart_data_is_plain_json(instrument):
    # the patient page writes it with json.dumps into the canvas's data-outcome; the script reads it back
    data = outcome_chart(instrument, _points([15, 7]))["data"]
    assert json.loads(json.dumps(data)) == data
    assert isinstance(data["points"][0]["date"], str)
