"""Prior authorisations on the pages: the course page's section and form, the booking pages and the board's panel.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``esk_course`` starts
Tuesday 3 March (session 1 due 3-10 March); its protocol requires prior authorisation.
``desk`` and ``nurse`` are the front desk's and a clinician's browsers.
"""

from __future__ import annotations

from datetime import date

import pytest

from patients.models import PatientAccess
from protocols.models import AuthorisationStatus, PriorAuthorisation
from scheduling.models import Session, WorkKind, WorklistRefresh
from tests.factories import PriorAuthorisationFactory, SessionRowFactory, WorkItemFactory
from tests.scheduling.conftest import TUESDAY, local

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def form(**values) -> dict:
    return {"payer": "Aetna", "number": "", "status": "pending", "units_approved": "", "first_day": "",
            "last_day": "", "submitted_on": "2026-02-27", "decided_on": "", "notes": "", "documents": "", **values}


@pytest.fixture
def approved(esk_course):
    """Aetna PA-1: 8 sessions from Tuesday 3 March to Tuesday 14 April."""
    return PriorAuthorisationFactory(course=esk_course, payer="Aetna", number="PA-1", units_approved=8,
                                     first_day=TUESDAY, last_day=date(2026, 4, 14))


# -- the course page ------------------------------------------------------------------------------------


def test_the_course_page_lists_each_authorisation_with_its_label_status_payer_and_number(
        desk, now, site, chair, esk_course, approved):
    # given a session booked inside the approval and a later request still pending
    SessionRowFactory(course=esk_course, chair=chair, start=local(site, TUESDAY, 9))
    PriorAuthorisationFactory(course=esk_course, payer="Cigna & Co", number="", status=AuthorisationStatus.PENDING,
                              units_approved=None, first_day=None, last_day=None, decided_on=None,
                              submitted_on=date(2026, 2, 27))
    # when
    html = desk.get(f"/courses/{esk_course.pk}/").content.decode()
    # then
    assert 'data-testid="course-authorisations"' in html
    assert "1 of 8 used, ends 14 Apr" in html and "PA-1" in html and "Approved" in html
    assert "Cigna &amp; Co" in html and "pending since 27 Feb" in html
    assert f'href="/courses/{esk_course.pk}/renewal-summary/"' in html


def test_a_course_without_one_says_its_protocol_needs_one(desk, now, esk_course):
    html = desk.get(f"/courses/{esk_course.pk}/").content.decode()
    assert "None on file. This protocol's payers usually require one" in html


def test_the_desk_adds_an_authorisation_and_the_worklist_follows(desk, now, esk_course, front_desk):
    # when
    response = desk.post(f"/courses/{esk_course.pk}/authorisations/new/", form(
        status="approved", number="PA-77", units_approved="6", first_day="2026-03-03", last_day="2026-05-31",
        decided_on="2026-03-01", documents="fax 2026-02-27\n\nportal ref 123 "))
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/courses/{esk_course.pk}/?saved=authorisation#authorisations"
    saved = PriorAuthorisation.objects.get(course=esk_course)
    assert (saved.status, saved.units_approved, saved.last_day) == ("approved", 6, date(2026, 5, 31))
    assert saved.documents == ["fax 2026-02-27", "portal ref 123"]
    assert saved.created_by == front_desk and saved.updated_by == front_desk
    assert WorklistRefresh.objects.filter(course=esk_course).exists()
    assert "The authorisation is saved." in desk.get(response["Location"]).content.decode()


def test_an_approval_without_units_or_days_is_refused_beside_its_fields_and_nothing_is_saved(desk, now, esk_course):
    # when
    response = desk.post(f"/courses/{esk_course.pk}/authorisations/new/", form(status="approved", payer="Aetna"))
    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="auth-units-error"' in html and "An approved authorisation needs its number of sessions." in html
    assert 'id="auth-first-day-error"' in html and 'value="Aetna"' in html
    assert not PriorAuthorisation.objects.exists()


def test_unreadable_values_are_400_with_the_field_named(desk, now, esk_course):
    response = desk.post(f"/courses/{esk_course.pk}/authorisations/new/",
                         form(payer="", submitted_on="27/02/2026", units_approved="0"))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="auth-payer-error"' in html and 'id="auth-submitted-on-error"' in html
    assert 'id="auth-units-error"' in html
    assert not PriorAuthorisation.objects.exists()


def test_an_approval_overlapping_another_is_a_409(desk, now, esk_course, approved):
    response = desk.post(f"/courses/{esk_course.pk}/authorisations/new/", form(
        status="approved", units_approved="4", first_day="2026-04-01", last_day="2026-06-30"))
    assert response.status_code == 409
    assert 'data-code="authorisation_overlap"' in response.content.decode()
    assert PriorAuthorisation.objects.count() == 1


def test_the_payers_answer_is_entered_on_the_edit_form(desk, now, esk_course):
    # given a pending request
    pending = PriorAuthorisationFactory(course=esk_course, status=AuthorisationStatus.PENDING, units_approved=None,
                                        first_day=None, last_day=None, decided_on=None, submitted_on=date(2026, 2, 20))
    page = desk.get(f"/authorisations/{pending.pk}/edit/").content.decode()
    assert 'value="2026-02-20"' in page
    # when it is approved
    response = desk.post(f"/authorisations/{pending.pk}/edit/", form(
        payer=pending.payer, number="PA-9", status="approved", units_approved="8", first_day="2026-03-03",
        last_day="2026-04-30", submitted_on="2026-02-20", decided_on="2026-03-02"))
    # then
    pending.refresh_from_db()
    assert response.status_code == 302
    assert (pending.status, pending.number, pending.units_approved) == ("approved", "PA-9", 8)


def test_an_expired_authorisation_cannot_be_approved_again(desk, now, esk_course):
    expired = PriorAuthorisationFactory(course=esk_course, status=AuthorisationStatus.EXPIRED)
    response = desk.post(f"/authorisations/{expired.pk}/edit/", form(
        status="approved", units_approved="8", first_day="2026-03-03", last_day="2026-04-30",
        submitted_on=expired.submitted_on.isoformat()))
    assert response.status_code == 400
    assert 'id="auth-status-error"' in response.content.decode()
    assert "authorisation cannot become approved" in response.content.decode()
    expired.refresh_from_db()
    assert expired.status == AuthorisationStatus.EXPIRED


def test_opening_the_form_is_logged_as_a_read_of_the_patients_record(desk, now, esk_course, front_desk):
    desk.get(f"/courses/{esk_course.pk}/authorisations/new/")
    assert PatientAccess.objects.filter(patient=esk_course.patient, user=front_desk).exists()


# -- the booking pages and the board's panel ------------------------------------------------------------------


def test_book_next_shows_the_label_of_the_authorisation(desk, now, site, chair, esk_course, approved):
    html = desk.get(f"/courses/{esk_course.pk}/book/").content.decode()
    assert 'data-testid="booking-authorisations"' in html and "Aetna PA-1: 0 of 8 used, ends 14 Apr" in html


@pytest.fixture
def denied(esk_course):
    """A request the payer denied: the course has an authorisation on file, none approved."""
    return PriorAuthorisationFactory(course=esk_course, status=AuthorisationStatus.DENIED, units_approved=None,
                                     first_day=None, last_day=None)


def test_a_booking_refused_for_no_authorisation_offers_a_clinician_the_reason_field(nurse, now, site, chair,
                                                                                    esk_course, staff_clinician,
                                                                                    denied):
    # when a clinician books with no approval on file
    refused = nurse.post(f"/courses/{esk_course.pk}/book/", {"slot": f"{chair.pk}|2026-03-03T09:00"})
    # then the page says why and asks for a reason
    html = refused.content.decode()
    assert refused.status_code == 409 and 'data-code="no_authorisation"' in html
    assert 'name="authorisation_reason"' in html
    # when they give one
    booked = nurse.post(f"/courses/{esk_course.pk}/book/", {"slot": f"{chair.pk}|2026-03-03T09:00",
                                                            "authorisation_reason": "Approval promised by phone"})
    # then it is booked with the reason on the session
    assert booked.status_code == 302
    session = Session.objects.get(course=esk_course)
    assert session.authorisation_override_reason == "Approval promised by phone"
    assert session.authorisation_override_by == staff_clinician


def test_the_front_desk_is_told_who_may_book_beyond_the_authorisation(desk, now, site, chair, esk_course, denied):
    response = desk.post(f"/courses/{esk_course.pk}/book/", {"slot": f"{chair.pk}|2026-03-03T09:00"})
    html = response.content.decode()
    assert response.status_code == 409 and 'data-testid="authorisation-reason-needed"' in html
    assert 'name="authorisation_reason"' not in html
    assert not Session.objects.filter(course=esk_course).exists()


def test_a_phase_crossing_the_last_covered_day_is_booked_by_a_clinician_with_a_reason(nurse, now, site, chair,
                                                                                      esk_course):
    # given an approval that ends on Sunday 15 March: the induction's later sessions fall after it
    PriorAuthorisationFactory(course=esk_course, first_day=TUESDAY, last_day=date(2026, 3, 15), units_approved=8)
    values = {"chair": chair.pk, "first_date": "2026-03-05", "time": "09:00", "weekdays": ["0", "3"]}
    # when previewed
    preview = nurse.post(f"/courses/{esk_course.pk}/book-phase/preview/", values, **HTMX).content.decode()
    # then the sessions after the 15th are beyond it, and a reason books them all
    assert 'data-testid="preview-beyond-authorisation"' in preview and 'name="authorisation_reason"' in preview
    assert 'data-testid="phase-confirm"' in preview
    booked = nurse.post(f"/courses/{esk_course.pk}/book-phase/",
                        {**values, "authorisation_reason": "Renewal sent on Feb 27"})
    assert booked.status_code == 302
    sessions = Session.objects.filter(course=esk_course)
    assert sessions.count() == 8
    assert sessions.filter(authorisation_override_reason="Renewal sent on Feb 27").count() == 5


def test_the_board_panel_shows_the_authorisation_covering_the_session(desk, now, site, chair, esk_course, approved):
    session = SessionRowFactory(course=esk_course, chair=chair, start=local(site, TUESDAY, 9))
    html = desk.get(f"/sessions/{session.pk}/", **HTMX).content.decode()
    assert 'data-testid="panel-authorisation"' in html and "Aetna: 1 of 8 used, ends 14 Apr" in html


def test_a_worklist_item_about_an_authorisation_links_to_the_course_section(desk, now, site, esk_course):
    WorkItemFactory(kind=WorkKind.AUTHORISATION_PENDING, patient=esk_course.patient, course=esk_course, location=site,
                    detail="Sent to Aetna on Mon Feb 16; no answer yet: call the payer.")
    html = desk.get("/worklist/").content.decode()
    assert f'href="/courses/{esk_course.pk}/#authorisations" data-testid="worklist-authorisation"' in html


def test_a_move_past_the_last_covered_day_asks_a_clinician_for_a_reason_and_then_moves(nurse, now, site, chair,
                                                                                      esk_course):
    # given an approval ending Thursday 5 March and session 1 booked on Tuesday 3 March
    PriorAuthorisationFactory(course=esk_course, first_day=TUESDAY, last_day=date(2026, 3, 5))
    session = SessionRowFactory(course=esk_course, chair=chair, start=local(site, TUESDAY, 9))
    move = {"start": "2026-03-06T09:00", "chair": chair.pk}
    # when moved to Friday 6 March, still in the due window
    refused = nurse.post(f"/sessions/{session.pk}/reschedule/", move, **HTMX)
    # then the panel says why and asks for a reason
    html = refused.content.decode()
    assert refused.status_code == 409 and 'data-code="no_authorisation"' in html
    assert 'id="reschedule-authorisation-reason"' in html
    # when the reason is given
    moved = nurse.post(f"/sessions/{session.pk}/reschedule/", {**move, "authorisation_reason": "Renewal approved "
                                                               "by phone, letter to follow"}, **HTMX)
    # then
    assert moved.status_code == 200
    session.refresh_from_db()
    assert session.local_date == date(2026, 3, 6)
    assert session.authorisation_override_reason == "Renewal approved by phone, letter to follow"


def test_a_booking_beyond_the_authorisation_shows_its_reason_and_who_gave_it_on_the_panel_and_the_course_page(
        desk, now, site, chair, esk_course, clinician):
    # given a session a clinician booked with no approval on file
    session = SessionRowFactory(course=esk_course, chair=chair, start=local(site, TUESDAY, 9),
                                authorisation_override_reason="Payer confirmed by phone, letter to follow",
                                authorisation_override_by=clinician, authorisation_override_at=now)
    who = clinician.get_full_name() or clinician.username
    # when the desk opens its panel and the course page
    panel = desk.get(f"/sessions/{session.pk}/", **HTMX).content.decode()
    course_page = desk.get(f"/courses/{esk_course.pk}/").content.decode()
    # then both say why it went ahead; the panel says who and when
    assert 'data-testid="panel-authorisation-override"' in panel
    assert "Payer confirmed by phone, letter to follow" in panel and f"({who}, Mar 2, 09:00)" in panel
    assert 'data-testid="course-authorisation-override"' in course_page
    assert "Payer confirmed by phone, letter to follow" in course_page
    assert '<p class="muted">None on file.</p>' not in course_page


def test_an_approval_withdrawn_on_the_edit_form_is_dated_today_though_the_form_kept_the_approvals_day(
        desk, now, esk_course, approved):
    # given the edit form, which shows the approval's own day
    approved_on = approved.decided_on
    # when the desk changes only the status
    response = desk.post(f"/authorisations/{approved.pk}/edit/", form(
        payer=approved.payer, number=approved.number, status="denied", units_approved="8", first_day="2026-03-03",
        last_day="2026-04-14", submitted_on=approved.submitted_on.isoformat(), decided_on=approved_on.isoformat()))
    # then the denial is today's
    approved.refresh_from_db()
    assert response.status_code == 302
    assert (approved.status, approved.decided_on) == ("denied", date(2026, 3, 2))
    assert approved_on != date(2026, 3, 2)


def test_a_form_with_an_unreadable_field_names_the_rules_other_fields_break_at_the_same_time(desk, now, esk_course):
    # when the units are negative and the days in the wrong order
    response = desk.post(f"/courses/{esk_course.pk}/authorisations/new/", form(
        status="approved", units_approved="-2", first_day="2026-05-01", last_day="2026-04-01"))
    # then both are said beside their fields, and nothing is saved
    html = response.content.decode()
    assert response.status_code == 400
    assert "greater than or equal to 1" in html and "The last day covered cannot be before the first." in html
    assert not PriorAuthorisation.objects.exists()
