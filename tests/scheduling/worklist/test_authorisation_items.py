"""The worklist's prior-authorisation items open when the fact is true and close themselves when it changes.

Now is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). Each course is an active
esketamine course that started on Monday 5 January, treated at Midtown.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from protocols.models import AuthorisationStatus
from scheduling.models import SessionStatus, WorkItem, WorkKind
from scheduling.worklist.sweep import refresh_worklist
from tests.factories import (
    ChairFactory,
    PatientFactory,
    PriorAuthorisationFactory,
    TreatmentCourseFactory,
    standard_protocol,
)
from tests.scheduling.conftest import JAN_5

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


@pytest.fixture
def course(now):
    return TreatmentCourseFactory(patient=PatientFactory(), protocol=standard_protocol("esketamine-trd"),
                                  start_date=JAN_5)


@pytest.fixture
def given(course, session_on):
    """Sessions of ``course`` on the days given, discharged unless told."""

    def make(*days: date, status: str = SessionStatus.DISCHARGED, of=None):
        return [session_on(of or course, day, status) for day in days]

    return make


def open_item(kind: str, authorisation) -> WorkItem | None:
    return WorkItem.objects.open().filter(kind=kind, subject=f"authorisation:{authorisation.pk}").first()


def closed_item(kind: str, authorisation) -> WorkItem:
    return WorkItem.objects.filter(kind=kind, subject=f"authorisation:{authorisation.pk}",
                                   closed_at__isnull=False).get()


def test_an_approval_ending_within_14_days_opens_an_item_and_a_renewal_approved_closes_it(course, given):
    # given an approval running to Thursday 12 March, and the course's latest session at Midtown
    given(date(2026, 2, 24))
    ending = PriorAuthorisationFactory(course=course, first_day=JAN_5, last_day=date(2026, 3, 12), units_approved=20)
    # when the sweep runs
    refresh_worklist()
    # then the desk is asked for a renewal
    item = open_item(WorkKind.AUTHORISATION_ENDING, ending)
    assert item is not None and item.course_id == course.pk and item.due_on == date(2026, 3, 12)
    assert "up to Thu Mar 12" in item.detail and "1 of 20 used" in item.detail
    assert item.location is not None and item.location.name == "Midtown"
    # when the payer approves the next block
    PriorAuthorisationFactory(course=course, first_day=date(2026, 3, 13), last_day=date(2026, 6, 12))
    refresh_worklist()
    # then the item closed itself, saying why
    assert open_item(WorkKind.AUTHORISATION_ENDING, ending) is None
    assert closed_item(WorkKind.AUTHORISATION_ENDING, ending).resolution == (
        "resolved itself: a renewal was requested or approved")


def test_an_approval_ending_in_15_days_or_already_over_opens_nothing(course, given):
    # given one approval that ends in 15 days and one that ended yesterday
    given(date(2026, 2, 24))
    later = PriorAuthorisationFactory(course=course, first_day=TODAY, last_day=TODAY + timedelta(days=15))
    over = PriorAuthorisationFactory(course=course, first_day=JAN_5, last_day=TODAY - timedelta(days=1))
    # when
    refresh_worklist()
    # then
    assert open_item(WorkKind.AUTHORISATION_ENDING, later) is None
    assert open_item(WorkKind.AUTHORISATION_ENDING, over) is None


def test_two_sessions_left_opens_an_item_and_a_cancelled_session_closes_it(course, given):
    # given 8 approved sessions, 5 given and 1 booked: 2 left
    authorisation = PriorAuthorisationFactory(course=course, first_day=JAN_5, last_day=date(2026, 4, 30),
                                              units_approved=8)
    given(*(JAN_5 + timedelta(weeks=week) for week in range(5)))
    booked, = given(date(2026, 3, 4), status=SessionStatus.BOOKED)
    # when
    refresh_worklist()
    # then
    item = open_item(WorkKind.AUTHORISATION_UNITS_LOW, authorisation)
    assert item is not None and "2 sessions left of 8" in item.detail
    # when the booked session is cancelled, 3 are left
    booked.status = SessionStatus.CANCELLED
    booked.save()
    refresh_worklist()
    # then
    assert open_item(WorkKind.AUTHORISATION_UNITS_LOW, authorisation) is None
    assert closed_item(WorkKind.AUTHORISATION_UNITS_LOW, authorisation).resolution.startswith(
        "resolved itself: 3 sessions left now")


def test_no_show_sessions_use_no_unit_and_three_left_opens_nothing(course, given):
    # given 8 approved: 5 given, 2 missed
    authorisation = PriorAuthorisationFactory(course=course, first_day=JAN_5, last_day=date(2026, 4, 30))
    given(*(JAN_5 + timedelta(weeks=week) for week in range(5)))
    given(date(2026, 2, 10), date(2026, 2, 17), status=SessionStatus.NO_SHOW)
    # when
    refresh_worklist()
    # then
    assert open_item(WorkKind.AUTHORISATION_UNITS_LOW, authorisation) is None


def test_every_unit_used_says_no_session_left_and_more_units_close_it(course, given):
    # given 2 approved, both given
    authorisation = PriorAuthorisationFactory(course=course, first_day=JAN_5, last_day=date(2026, 4, 30),
                                              units_approved=2)
    given(JAN_5, date(2026, 1, 12))
    refresh_worklist()
    assert "no session left of 2" in open_item(WorkKind.AUTHORISATION_UNITS_LOW, authorisation).detail
    # when the payer raises the units
    authorisation.units_approved = 10
    authorisation.save()
    refresh_worklist()
    # then
    assert open_item(WorkKind.AUTHORISATION_UNITS_LOW, authorisation) is None


def test_a_request_pending_more_than_7_days_opens_an_item_and_the_payers_answer_closes_it(course, given):
    # given a request sent 8 days ago and one sent 7 days ago
    given(date(2026, 2, 24))
    waiting = PriorAuthorisationFactory(course=course, status=AuthorisationStatus.PENDING, units_approved=None,
                                        first_day=None, last_day=None, decided_on=None,
                                        submitted_on=TODAY - timedelta(days=8))
    recent = PriorAuthorisationFactory(course=course, status=AuthorisationStatus.PENDING, units_approved=None,
                                       first_day=None, last_day=None, decided_on=None,
                                       submitted_on=TODAY - timedelta(days=7))
    # when
    refresh_worklist()
    # then only the older one is chased
    item = open_item(WorkKind.AUTHORISATION_PENDING, waiting)
    assert item is not None and "Sent to Aetna on Sun Feb 22" in item.detail
    assert open_item(WorkKind.AUTHORISATION_PENDING, recent) is None
    # when the payer approves it
    waiting.status, waiting.units_approved, waiting.decided_on = AuthorisationStatus.APPROVED, 8, TODAY
    waiting.first_day, waiting.last_day = TODAY, TODAY + timedelta(weeks=12)
    waiting.save()
    refresh_worklist()
    # then
    assert closed_item(WorkKind.AUTHORISATION_PENDING, waiting).resolution == (
        "resolved itself: the payer answered: approved")


def test_a_denial_with_sessions_booked_opens_an_item_and_cancelling_them_closes_it(course, given):
    # given a denied request and two sessions booked ahead
    denied = PriorAuthorisationFactory(course=course, status=AuthorisationStatus.DENIED, units_approved=None,
                                       first_day=None, last_day=None)
    first, second = given(date(2026, 3, 4), date(2026, 3, 11), status=SessionStatus.BOOKED)
    # when
    refresh_worklist()
    # then
    item = open_item(WorkKind.AUTHORISATION_DENIED, denied)
    assert item is not None and item.session_id == first.pk and item.due_on == date(2026, 3, 4)
    assert "2 sessions are still booked" in item.detail
    # when both are cancelled
    for session in (first, second):
        session.status = SessionStatus.CANCELLED
        session.save()
    refresh_worklist()
    # then
    assert closed_item(WorkKind.AUTHORISATION_DENIED, denied).resolution == (
        "resolved itself: no session is booked outside an approval")


def test_a_denial_whose_booked_sessions_an_approval_covers_opens_nothing(course, given):
    # given a denial, and an approval covering the only booked session
    denied = PriorAuthorisationFactory(course=course, status=AuthorisationStatus.DENIED, units_approved=None,
                                       first_day=None, last_day=None)
    PriorAuthorisationFactory(course=course, first_day=TODAY, last_day=date(2026, 5, 29))
    given(date(2026, 3, 4), status=SessionStatus.BOOKED)
    # when
    refresh_worklist()
    # then
    assert open_item(WorkKind.AUTHORISATION_DENIED, denied) is None


def test_a_denial_appealed_to_an_approval_closes_its_item(course, given):
    # given a denied request with a session booked
    denied = PriorAuthorisationFactory(course=course, status=AuthorisationStatus.DENIED, units_approved=None,
                                       first_day=None, last_day=None)
    given(date(2026, 3, 4), status=SessionStatus.BOOKED)
    refresh_worklist()
    assert open_item(WorkKind.AUTHORISATION_DENIED, denied) is not None
    # when the appeal is won
    denied.status, denied.units_approved, denied.first_day, denied.last_day = (
        AuthorisationStatus.APPROVED, 8, TODAY, date(2026, 5, 29))
    denied.save()
    refresh_worklist()
    # then
    assert closed_item(WorkKind.AUTHORISATION_DENIED, denied).resolution == (
        "resolved itself: the authorisation is now approved")


def test_items_of_a_course_that_ends_close_with_the_course(course, given, now):
    # given an ending approval's item
    given(date(2026, 2, 24))
    ending = PriorAuthorisationFactory(course=course, first_day=JAN_5, last_day=date(2026, 3, 12))
    refresh_worklist()
    # when the course is discontinued
    course.status, course.discontinued_reason, course.discontinued_at = "discontinued", "Moved away", now
    course.save()
    refresh_worklist()
    # then
    assert closed_item(WorkKind.AUTHORISATION_ENDING, ending).resolution == (
        "resolved itself: the course is discontinued")


def test_the_sweep_reads_authorisations_in_the_same_queries_for_ten_times_the_courses(
        now, chair, session_on, django_assert_max_num_queries, django_assert_num_queries):
    def populate(count: int) -> None:
        for _ in range(count):
            course = TreatmentCourseFactory(patient=PatientFactory(), protocol=standard_protocol("esketamine-trd"),
                                            start_date=JAN_5)
            session_on(course, date(2026, 3, 4), on=ChairFactory(location=chair.location))
            PriorAuthorisationFactory(course=course, first_day=JAN_5, last_day=date(2026, 3, 12))
            PriorAuthorisationFactory(course=course, status=AuthorisationStatus.DENIED, units_approved=None,
                                      first_day=None, last_day=None)

    # given three courses, each with an ending approval and a denial
    populate(3)
    with django_assert_max_num_queries(30) as with_few:
        refresh_worklist()
    # when there are ten times as many
    populate(27)
    # then the sweep asks the same number of queries
    with django_assert_num_queries(len(with_few)):
        refresh_worklist()
    assert WorkItem.objects.open().filter(kind=WorkKind.AUTHORISATION_ENDING).count() == 30
