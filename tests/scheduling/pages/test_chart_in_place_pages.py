"""The chart's steps posted with htmx: the chart's body comes back alone, to be swapped in place.

``esk_session`` starts at ``NINE``, Tuesday 3 March 2026 09:00 in New York (chart_page_steps.py).
Without htmx the same posts still redirect back to the chart (the fallback).
"""

from __future__ import annotations

import re

import pytest

from tests.scheduling.pages.chart_page_steps import CHECKLIST, NORMAL, checked_in_with_vitals, later, step
from tests.scheduling.stock.dose_lots import lot_for, with_lot

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def in_place(client, session, name, body=None):
    if name == "dose":  # a dose draws from the site's stock
        body = with_lot(session, body or {})
    return client.post(f"/sessions/{session.pk}/chart/{name}/", body or {}, **HTMX)


def test_a_step_posted_with_htmx_answers_with_the_chart_body_and_says_what_it_did(nurse, esk_session, clock):
    response = in_place(nurse, esk_session, "check-in", CHECKLIST)
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="chart-body"' in content and "<html" not in content
    assert 'data-testid="step-done"' in content and "Checked in." in content
    assert 'data-status="checked_in"' in content
    assert 'data-step="pre-dose" data-state="current"' in content


def test_without_htmx_a_step_still_redirects_back_to_the_chart(nurse, esk_session, clock):
    response = step(nurse, esk_session, "check-in", CHECKLIST)
    assert response.status_code == 302
    assert response["Location"] == f"/sessions/{esk_session.pk}/chart/#step-check-in"


def test_a_refused_dose_answers_in_place_with_the_dose_and_lot_typed(nurse, esk_session, clock):
    # given a high pre-dose blood pressure, not acknowledged
    checked_in_with_vitals(nurse, esk_session, {**NORMAL, "systolic": "160"})
    later(nurse, clock, 10)
    response = in_place(nurse, esk_session, "dose", {"dose_mg": "84",
                                                     "started_at": "09:03", "device_2_at": "09:08"})
    content = response.content.decode()
    assert response.status_code == 409, re.findall(r'data-code="[^"]*"|error">[^<]*<', content)
    assert 'id="chart-body"' in content and "<html" not in content
    assert 'data-code="high_bp_not_acknowledged"' in content
    assert f'<option value="{lot_for(esk_session).pk}" selected>' in content
    assert '<option value="84" selected>' in content
    assert 'name="device_2_at" type="time" value="09:08"' in content


def test_a_recorded_phq9_is_no_longer_due(nurse, esk_session, clock):
    checked_in_with_vitals(nurse, esk_session)
    before = nurse.get(f"/sessions/{esk_session.pk}/chart/").content.decode()
    assert 'data-due="true"' in before and "A PHQ-9 is due at this session." in before
    response = in_place(nurse, esk_session, "measure", {f"item{n}": "0" for n in range(1, 10)})
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-due="false"' in content and "A PHQ-9 is due" not in content
    assert "PHQ-9 (due)" not in content


def test_the_stepper_names_each_steps_state_in_words(nurse, esk_session, clock):
    content = nurse.get(f"/sessions/{esk_session.pk}/chart/").content.decode()
    assert 'aria-current="step"><span class="step-name">1. Check-in</span><span class="visually-hidden">:</span>' \
           in content
    assert content.count('aria-current="step"') == 1
    assert '<span class="step-state" data-testid="chart-step-state">next</span>' in content
    assert '<span class="step-state" data-testid="chart-step-state">to do</span>' in content


def test_what_a_discharged_charts_rems_form_lacks_links_to_the_form_that_records_it(nurse, esk_session, clock):
    # given a session discharged without its 40-minute blood pressure or an assessment
    checked_in_with_vitals(nurse, esk_session)
    later(nurse, clock, 10)
    assert step(nurse, esk_session, "dose", {"dose_mg": "56"}).status_code == 302
    later(nurse, clock, 131)
    assert step(nurse, esk_session, "vitals", {"kind": "discharge", **NORMAL}).status_code == 302
    assert step(nurse, esk_session, "discharge", {"resolution_attested": "on", "driver": "Her sister",
                                                  "could_have_left_after_minutes": "90"}).status_code == 302
    chart = f"/sessions/{esk_session.pk}/chart/"
    content = nurse.get(chart).content.decode()
    assert 'data-testid="chart-rems-missing"' in content
    assert f'href="{chart}?reading=post_dose_40#step-observation"' in content
    assert f'href="{chart}#step-assessment"' in content
    # the link's reading is where the late vital-signs form starts
    linked = nurse.get(chart, {"reading": "post_dose_40"}).content.decode()
    assert '<option value="post_dose_40" selected>' in linked
    # once recorded in place, the 40-minute blood pressure is no longer missing
    response = in_place(nurse, esk_session, "vitals", {"kind": "post_dose_40", **NORMAL, "taken_at": "09:50",
                                                       "late_reason": "From the paper notes"})
    assert response.status_code == 200, response.content.decode()
    assert "?reading=post_dose_40" not in response.content.decode()
