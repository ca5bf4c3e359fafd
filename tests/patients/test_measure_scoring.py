"""Scoring PHQ-9, GAD-7 and MADRS: totals, bands on every boundary, the item-9 flag, response and remission.

Pure functions, no database: DOMAIN.md "Outcome measures" is the reference.
"""

from __future__ import annotations

import pytest

from patients.measures import MeasureInputError, band_for, is_remission, is_response, score


def answers(total: int, count: int, item_max: int) -> list[int]:
    """Answers adding up to ``total``, filled from the first item (so PHQ-9 item 9 stays 0 up to 24)."""
    items = []
    for _ in range(count):
        items.append(min(item_max, total))
        total -= items[-1]
    assert total == 0, "total too high for the instrument"
    return items


# -- totals and bands --------------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "band"), [
    (0, "minimal"), (4, "minimal"),
    (5, "mild"), (9, "mild"),
    (10, "moderate"), (14, "moderate"),
    (15, "moderately_severe"), (19, "moderately_severe"),
    (20, "severe"), (27, "severe"),
])
def test_a_phq9_is_banded_on_each_side_of_every_boundary(total, band):
    # given
    items = answers(total, 9, 3)
    # when
    result = score("phq9", items)
    # then
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(("total", "band"), [
    (0, "minimal"), (4, "minimal"),
    (5, "mild"), (9, "mild"),
    (10, "moderate"), (14, "moderate"),
    (15, "severe"), (21, "severe"),
])
def test_a_gad7_is_banded_on_each_side_of_every_boundary(total, band):
    # when
    result = score("gad7", answers(total, 7, 3))
    # then
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(("total", "band"), [
    (0, "normal"), (6, "normal"),
    (7, "mild"), (19, "mild"),
    (20, "moderate"), (34, "moderate"),
    (35, "severe"), (60, "severe"),
])
def test_a_madrs_is_banded_on_each_side_of_every_boundary(total, band):
    # when
    result = score("madrs", answers(total, 10, 6))
    # then
    assert (result.total, result.band) == (total, band)


def test_the_total_is_the_sum_of_the_answers_in_any_order():
    # given answers that are not front-loaded
    items = [0, 3, 1, 2, 0, 1, 3, 2, 0]
    # when
    result = score("phq9", items)
    # then
    assert result.total == 12
    assert result.band == "moderate"


def test_a_total_outside_the_instrument_has_no_band():
    with pytest.raises(MeasureInputError):
        band_for("phq9", 28)


# -- item 9 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item_9_above_zero_raises_the_alert(item9):
    # when
    result = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, item9])
    # then
    assert result.item9_positive is True
    assert result.band == "minimal"  # the alert does not depend on the total


def test_phq9_item_9_at_zero_raises_no_alert_however_high_the_rest():
    # when
    result = score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    # then
    assert result.item9_positive is False


def test_only_the_phq9_has_an_item_9_alert():
    # given a MADRS whose ninth item is scored (pessimistic thoughts, not the PHQ-9 question)
    # when
    result = score("madrs", [0, 0, 0, 0, 0, 0, 0, 0, 4, 0])
    # then
    assert result.item9_positive is False


# -- invalid answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("instrument", "items"), [
    ("phq9", [1] * 8),
    ("phq9", [1] * 10),
    ("gad7", [1] * 9),
    ("madrs", [1] * 9),
    ("phq9", []),
])
def test_a_form_with_the_wrong_number_of_answers_is_refused_naming_items(instrument, items):
    # when
    with pytest.raises(MeasureInputError) as refused:
        score(instrument, items)
    # then
    assert list(refused.value.fields) == ["items"]
    assert "items" in refused.value.fields["items"][0]


def test_an_answer_above_the_item_maximum_names_the_item():
    # when
    with pytest.raises(MeasureInputError) as refused:
        score("phq9", [0, 0, 4, 0, 0, 0, 0, 0, 0])
    # then
    assert refused.value.fields == {"items": ["Item 3 must be 0 to 3."]}


def test_a_madrs_item_may_go_to_6_but_not_7():
    # given
    assert score("madrs", [6, 0, 0, 0, 0, 0, 0, 0, 0, 0]).total == 6
    # when
    with pytest.raises(MeasureInputError) as refused:
        score("madrs", [7, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    # then
    assert refused.value.fields == {"items": ["Item 1 must be 0 to 6."]}


def test_a_negative_answer_is_refused():
    with pytest.raises(MeasureInputError) as refused:
        score("gad7", [0, -1, 0, 0, 0, 0, 0])
    assert refused.value.fields == {"items": ["Item 2 must be 0 to 3."]}


@pytest.mark.parametrize("bad", ["2", 1.5, 2.0, True, None, [1]])
def test_an_answer_that_is_not_a_whole_number_is_refused(bad):
    # when
    with pytest.raises(MeasureInputError) as refused:
        score("phq9", [0, 0, 0, 0, bad, 0, 0, 0, 0])
    # then
    assert refused.value.fields == {"items": ["Item 5 must be a whole number from 0 to 3."]}


def test_every_problem_is_listed_at_once():
    # when
    with pytest.raises(MeasureInputError) as refused:
        score("gad7", [9, 0, "x"])
    # then
    assert refused.value.fields["items"] == [
        "GAD-7 has 7 items; 3 were given.",
        "Item 1 must be 0 to 3.",
        "Item 3 must be a whole number from 0 to 3.",
    ]


@pytest.mark.parametrize("items", ["000000000", None, 9, {"1": 0}])
def test_answers_that_are_not_a_list_are_refused(items):
    with pytest.raises(MeasureInputError) as refused:
        score("phq9", items)
    assert list(refused.value.fields) == ["items"]


@pytest.mark.parametrize("instrument", ["phq8", "PHQ-9", "", None])
def test_an_unknown_instrument_is_refused_naming_instrument(instrument):
    with pytest.raises(MeasureInputError) as refused:
        score(instrument, [0] * 9)
    assert list(refused.value.fields) == ["instrument"]


def test_a_refusal_is_a_400_in_the_clinic_error_format():
    with pytest.raises(MeasureInputError) as refused:
        score("phq9", [0] * 8)
    body = refused.value.as_dict()
    assert refused.value.status == 400
    assert body["code"] == "invalid"
    assert body["fields"]["items"] == ["PHQ-9 has 9 items; 8 were given."]


# -- response and remission --------------------------------------------------------------------------


def test_a_drop_of_exactly_half_is_a_response():
    assert is_response(20, 10) is True


def test_a_drop_of_49_percent_is_not_a_response():
    # 49 -> 25 is a drop of 24/49 = 49.0%
    assert is_response(49, 25) is False


def test_a_drop_of_more_than_half_is_a_response():
    assert is_response(22, 3) is True


def test_a_drop_just_short_of_half_on_a_phq9_is_not_a_response():
    assert is_response(20, 11) is False


def test_a_rise_is_not_a_response():
    assert is_response(12, 15) is False


def test_a_baseline_of_zero_is_never_a_response():
    assert is_response(0, 0) is False


@pytest.mark.parametrize(("instrument", "total", "remission"), [
    ("phq9", 4, True), ("phq9", 5, False), ("phq9", 0, True),
    ("madrs", 10, True), ("madrs", 11, False),
    ("gad7", 4, True), ("gad7", 5, False),
])
def test_remission_is_below_5_for_phq9_and_gad7_and_10_or_below_for_madrs(instrument, total, remission):
    assert is_remission(instrument, total) is remission
