"""The session panel's check-in and undo, its refusals in place, and the day sheet.

"Now" is Monday 2 March 2026, 09:00 in New York; ``esk_session`` is Tuesday
09:00 with the clock moved to then (tests/scheduling/conftest.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduling.booking import services as booking
from scheduling.models import SessionStatus
from tests.factories import PatientFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import TUESDAY, local

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
CHECKLIST = {"fasted_food_2h": "on", "fasted_drink_30m": "on", "nasal_medicines_ok": "on"}


def inside(html: str, form_testid: str, needle: str) -> bool:
    """``needle`` is inside the form marked ``form_testid``."""
    start = html.index(f'data-testid="{form_testid}"')
    return start < html.find(needle, start) < html.index("</form>", start)


# -- check-in -----------------------------------------------------------------------------------------------


def test_the_panel_offers_check_in_on_the_sessions_day_only(desk, esk_session, clock):
    assert 'id="check-in"' in desk.get(f"/sessions/{esk_session.pk}/", **HTMX).content.decode()
    clock.move_to(esk_session.start - timedelta(days=1))
    assert 'id="check-in"' not in desk.get(f"/sessions/{esk_session.pk}/", **HTMX).content.decode()


def test_the_front_desk_checks_a_patient_in_from_the_panel(desk, esk_session, front_desk):
    # when
    response = desk.post(f"/sessions/{esk_session.pk}/check-in/", {**CHECKLIST, "ride_home_arranged": "on"},
                         **HTMX)

    # then
    esk_session.refresh_from_db()
    assert response.status_code == 200
    assert response["HX-Trigger"] == "board-changed"
    assert "is checked in." in response.content.decode()
    assert (esk_session.status, esk_session.checked_in_by, esk_session.ride_home_arranged) == (
        SessionStatus.CHECKED_IN, front_desk, True)


def test_check_in_without_a_ride_home_is_refused_inside_the_check_in_form(desk, esk_session):
    # when
    response = desk.post(f"/sessions/{esk_session.pk}/check-in/", CHECKLIST, **HTMX)

    # then: the charting service's 409, in its words, with the ticks kept
    html = response.content.decode()
    assert response.status_code == 409
    assert inside(html, "check-in-form", 'data-code="ride_home_required"')
    assert 'id="panel-check-fasted_food_2h" name="fasted_food_2h" value="on" checked' in html
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.BOOKED


def test_an_unreadable_arrival_time_is_refused_beside_its_field(desk, esk_session):
    response = desk.post(f"/sessions/{esk_session.pk}/check-in/",
                         {**CHECKLIST, "ride_home_arranged": "on", "checked_in_at": "9 o'clock"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 400
    assert inside(html, "check-in-form", 'id="panel-check-in-checked_in_at-error"')


def test_check_in_outside_the_panel_goes_back_to_the_session_page(desk, esk_session):
    response = desk.post(f"/sessions/{esk_session.pk}/check-in/", {**CHECKLIST, "ride_home_arranged": "on"})
    assert (response.status_code, response["Location"]) == (302, f"/sessions/{esk_session.pk}/")


# -- refusals in place, undo --------------------------------------------------------------------------------


def test_a_blank_reason_is_refused_inside_the_cancel_form(desk, now, site, chair, front_desk, book):
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    html = desk.post(f"/sessions/{session.pk}/cancel/", {"reason": " \n "}, **HTMX).content.decode()
    assert inside(html, "cancel-form", "Say why the session is cancelled.")
    assert inside(html, "cancel-form", 'id="cancel-reason-error"')


def test_a_refusal_for_a_form_no_longer_shown_comes_first_in_the_panel(desk, now, site, chair, front_desk, book):
    # given another desk cancelled it meanwhile
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    booking.cancel_session(by=front_desk, session=session, reason="Unwell")

    # when
    response = desk.post(f"/sessions/{session.pk}/cancel/", {"reason": "Unwell"}, **HTMX)

    # then
    html = response.content.decode()
    assert response.status_code == 409
    assert 'data-code="invalid_state"' in html
    assert 'data-testid="cancel-form"' not in html


def test_a_cancel_is_undone_from_the_panel(desk, now, site, chair, front_desk, book):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    cancelled = desk.post(f"/sessions/{session.pk}/cancel/", {"reason": "Unwell"}, **HTMX).content.decode()
    assert 'data-testid="undo-cancel-form"' in cancelled

    # when
    response = desk.post(f"/sessions/{session.pk}/undo-cancel/", {}, **HTMX)

    # then
    session.refresh_from_db()
    assert response.status_code == 200
    assert response["HX-Trigger"] == "board-changed"
    assert (session.status, session.cancel_reason) == (SessionStatus.BOOKED, "")


def test_an_undo_refused_by_the_booking_rules_says_why_in_the_undo_form(desk, now, site, chair, front_desk, book):
    # given the freed chair is taken
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    booking.cancel_session(by=front_desk, session=session, reason="Unwell")
    book(chair, local(site, TUESDAY, 9), by=front_desk)

    # when
    response = desk.post(f"/sessions/{session.pk}/undo-cancel/", {}, **HTMX)

    # then
    assert response.status_code == 409
    assert inside(response.content.decode(), "undo-cancel-form", 'data-code="chair_conflict"')


# -- the day sheet --------------------------------------------------------------------------------------------


def test_the_day_sheet_lists_the_sites_sessions_with_phones_in_national_format(desk, now, site, chair, chair2,
                                                                               front_desk, book, staff_clinician):
    # given
    book(chair, local(site, TUESDAY, 13), by=front_desk)
    patient = PatientFactory(first_name="Ada", last_name="Quinn", phone="+13125552000")
    course = TreatmentCourseFactory(patient=patient, protocol=standard_protocol("esketamine-trd"), start_date=TUESDAY)
    session = book(chair, local(site, TUESDAY, 9), course=course, by=front_desk)
    cancelled = book(chair2, local(site, TUESDAY, 10), by=front_desk)
    booking.cancel_session(by=front_desk, session=cancelled, reason="Unwell")

    # when
    response = desk.get(f"/board/{site.pk}/2026-03-03/sheet/")

    # then: the standing sessions in time order, no cancelled one
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="day-sheet-row"') == 2
    assert html.index(f'data-session-id="{session.pk}"') < html.index("13:00–15:30")
    assert "(312) 555-2000" in html and "+13125552000" not in html
    assert "esketamine-trd · session 1" in html and "Ask at check-in" in html
    assert f'href="/day-sheet/clinician/{staff_clinician.pk}/2026-03-03/"' in html


def test_a_clinicians_day_sheet_and_an_impossible_day(desk, now, site, chair, front_desk, book, staff_clinician):
    book(chair, local(site, TUESDAY, 9), by=front_desk, clinician=staff_clinician)
    assert desk.get(f"/day-sheet/clinician/{staff_clinician.pk}/2026-03-03/").content.decode().count(
        'data-testid="day-sheet-row"') == 1
    assert desk.get(f"/board/{site.pk}/2026-02-30/sheet/").status_code == 404
