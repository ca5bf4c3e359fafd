"""The clinician's REMS forms pages, the outcomes chart, and charting an IV infusion on the page.

``esk_session`` is booked on Monday for Tuesday 3 March 2026 at 09:00 in New York, and the clock
stands there when a test begins; ``later`` walks through the session (chart_page_steps.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from patients import measures
from patients.models import MEDICINE_FIELDS
from scheduling.charting import outcomes
from scheduling.models import RemsForm, RemsFormStatus, Session, SessionStatus
from tests.factories import ChairFactory, RemsFormFactory
from tests.scheduling.conftest import TUESDAY
from tests.scheduling.pages.chart_page_steps import (
    NINE,
    checked_in_with_vitals,
    discharged,
    later,
    step,
)

pytestmark = pytest.mark.django_db


# --- REMS forms ----------------------------------------------------------------------------------------


def _form_for(book, chair, *, days_ago: int) -> RemsForm:
    session = book(chair, NINE)
    Session.objects.filter(pk=session.pk).update(local_date=TUESDAY - timedelta(days=days_ago))
    return RemsFormFactory(session=session, missing=["Dose"])


def test_the_rems_list_puts_overdue_then_due_first(nurse, site, chair, chair2, staff_clinician, now, clock, book):
    # given Tuesday 09:00, when the sessions start
    clock.move_to(NINE)
    # given a form not yet due, one due (day 6) and one overdue (day 10)
    pending = _form_for(book, chair, days_ago=1)
    due_form = _form_for(book, chair2, days_ago=6)
    overdue = _form_for(book, ChairFactory(location=site, name="Bay", serves_esketamine=True), days_ago=10)
    # when
    content = nurse.get("/rems/").content.decode()
    # then
    order = [int(found) for found in re.findall(r'data-testid="rems-row" data-form-id="(\d+)"', content)]
    assert order == [overdue.pk, due_form.pk, pending.pk]
    assert f'data-form-id="{overdue.pk}" data-urgency="overdue"' in content


def test_the_printable_form_shows_what_is_missing(nurse, esk_session, clock):
    # given a form for a session with nothing recorded yet
    form = RemsFormFactory(session=esk_session)
    # when
    content = nurse.get(f"/rems/{form.pk}/").content.decode()
    # then
    # (the Print button's window.print() is in a static file: the CSP forbids inline handlers)
    assert 'data-testid="rems-print"' in content and "scheduling/rems_form.js" in content
    assert 'data-testid="rems-missing-item">Lot number<' in content
    assert "Blood pressure at about 40 minutes" in content
    # each missing item links to the form that records it: the chart's step, or the patient's details
    chart = f"/sessions/{esk_session.pk}/chart/"
    assert f'<a href="{chart}#step-dose" data-testid="rems-missing-item">Lot number</a>' in content
    assert (f'<a href="{chart}?reading=post_dose_40#step-observation" data-testid="rems-missing-item">'
            "Blood pressure at about 40 minutes</a>") in content


def test_marking_an_incomplete_form_submitted_is_refused_with_the_reason(nurse, esk_session, clock):
    form = RemsFormFactory(session=esk_session)
    response = nurse.post(f"/rems/{form.pk}/submit/", {"confirmation_number": "RC-1"})
    assert response.status_code == 409
    assert "The form is incomplete" in response.content.decode()
    form.refresh_from_db()
    assert form.status != RemsFormStatus.SUBMITTED


def test_marking_a_complete_form_submitted_records_the_confirmation_number(nurse, esk_session, clock):
    # given a fully charted session, the patient asked about concomitant medicines
    esk_session.patient.__class__.objects.filter(pk=esk_session.patient_id).update(
        **{name: "no" for name in MEDICINE_FIELDS})
    discharged(nurse, esk_session, clock)
    form = RemsForm.objects.get(session=esk_session)
    # when
    response = nurse.post(f"/rems/{form.pk}/submit/", {"confirmation_number": "RC-20260303-1"})
    # then
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.status == RemsFormStatus.SUBMITTED and form.confirmation_number == "RC-20260303-1"
    assert 'data-testid="rems-submitted"' in nurse.get(f"/rems/{form.pk}/").content.decode()


def test_a_confirmation_number_is_required(nurse, esk_session, clock):
    form = RemsFormFactory(session=esk_session)
    response = nurse.post(f"/rems/{form.pk}/submit/", {"confirmation_number": ""})
    assert response.status_code == 400
    assert 'id="rems-confirmation-error"' in response.content.decode()


# --- the outcomes chart --------------------------------------------------------------------------------


# What the chart is given is tested in test_outcomes_chart_data.py; its drawing in the browser tests.


def test_the_patient_page_shows_the_outcomes_chart(nurse, esk_session, clock):
    # given two PHQ-9s during the course
    for items in ([2, 2, 2, 2, 2, 2, 2, 2, 0], [1, 1, 1, 0, 0, 0, 0, 0, 0]):
        outcomes.record_measure(by=esk_session.clinician, patient=esk_session.patient, instrument=measures.PHQ9,
                                items=items)
    # when
    content = nurse.get(f"/patients/{esk_session.patient_id}/").content.decode()
    # then
    assert content.count('data-testid="outcome-point"') == 2
    assert 'data-testid="outcome-band"' in content
    assert "Not recorded in this course: GAD-7, MADRS." in content
    # and the chart's data rides on its canvas, in no inline <script> the CSP would refuse
    assert re.search(r'<canvas data-testid="outcome-chart" data-outcome="\{&quot;instrument&quot;:&quot;phq9&quot;',
                     content)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", content)


def test_an_iv_infusion_is_charted_by_weight_and_its_end_starts_recovery(nurse, iv_course, iv_chair, staff_clinician,
                                                                         now, clock, book):
    # given a checked-in IV patient with normal vitals
    session = book(iv_chair, NINE, course=iv_course)
    clock.move_to(NINE)
    checked_in_with_vitals(nurse, session)
    page = nurse.get(f"/sessions/{session.pk}/chart/").content.decode()
    assert 'id="dose-weight"' in page and 'id="dose-mg-per-kg"' in page
    # when the infusion is recorded at 0.5 mg/kg for 80 kg and ended 40 minutes later
    later(nurse, clock, 5)
    assert step(nurse, session, "dose", {"weight_kg": "80", "mg_per_kg": "0.5"}).status_code == 302
    later(nurse, clock, 45)
    assert step(nurse, session, "infusion-end", {}).status_code == 302
    # then the dose is 40 mg and the chart counts recovery down
    session.refresh_from_db()
    assert session.dose.dose_mg == 40
    chart = nurse.get(f"/sessions/{session.pk}/chart/").content.decode()
    assert 'data-testid="chart-minutes-left">30 min left' in chart


def test_a_manager_may_see_the_schedule_and_the_rems_forms(client, manager, site):
    client.force_login(manager)
    assert client.get("/schedule/").status_code == 200
    assert client.get("/rems/").status_code == 200


def test_an_iv_dose_off_the_weight_based_rule_needs_a_clinicians_written_reason(nurse, iv_course, iv_chair,
                                                                                 staff_clinician, now, clock, book):
    # given a checked-in IV patient on ketamine-iv-series (0.5 mg/kg)
    session = book(iv_chair, NINE, course=iv_course)
    clock.move_to(NINE)
    checked_in_with_vitals(nurse, session)
    later(nurse, clock, 5)
    off_rule = {"weight_kg": "80", "mg_per_kg": "0.7"}
    # when 0.7 mg/kg is given without a reason
    refused = step(nurse, session, "dose", off_rule)
    # then the dose step asks for a reason, naming the problem and keeping what was typed; nothing is dosed
    content = refused.content.decode()
    assert refused.status_code == 409
    assert 'data-code="dose_override_required"' in content
    assert 'data-testid="dose-override"' in content
    assert "0.7 mg/kg differs from the protocol&#x27;s 0.50 mg/kg." in content
    assert re.search(r'id="dose-weight"[^>]* value="80"', content)
    assert re.search(r'id="dose-mg-per-kg"[^>]* value="0.7"', content)
    fresh = Session.objects.get(pk=session.pk)
    assert fresh.status == SessionStatus.CHECKED_IN
    assert not hasattr(fresh, "dose")
    # and a blank reason is no reason
    assert step(nurse, session, "dose", {**off_rule, "override_reason": "   "}).status_code == 409
    # when the clinician gives one
    reason = "Partial response at 0.5 mg/kg over four infusions"
    response = step(nurse, session, "dose", {**off_rule, "override_reason": reason})
    # then the dose is recorded by weight (80 kg x 0.7 = 56 mg) with the override and who gave it
    assert response.status_code == 302
    session = Session.objects.get(pk=session.pk)
    assert session.status == SessionStatus.IN_TREATMENT
    dose = session.dose
    assert (dose.dose_mg, dose.weight_kg, str(dose.mg_per_kg)) == (56, 80, "0.70")
    assert (dose.override_reason, dose.override_by) == (reason, staff_clinician)
    chart = nurse.get(f"/sessions/{session.pk}/chart/").content.decode()
    assert f"<dt>Override</dt><dd>{reason}</dd>" in chart
