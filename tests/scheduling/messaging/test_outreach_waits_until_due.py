"""A due-visit text waits until the visit is due: never before the window's earliest day, on the
location's local date. The worklist's "due soon" item (up to 3 days ahead) is for the desk only.

The clinic is the frozen New York site of ``conftest``: now is Monday 2 March 2026, 09:00 local.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from scheduling.booking import services as booking
from scheduling.models import Outreach, ReminderState, WorkItem, WorkKind
from scheduling.worklist.sweep import refresh_worklist
from tests.factories import TreatmentCourseFactory, standard_protocol
from tests.scheduling.messaging.sending import send_due_outreach

pytestmark = pytest.mark.django_db

SUNDAY, TUESDAY = date(2026, 3, 1), date(2026, 3, 3)


def seen_on(location, day: date, *, slug: str, by) -> object:
    """A course whose first session was given at ``location`` on ``day``: the next is due two days later."""
    course = TreatmentCourseFactory(protocol=standard_protocol(slug), start_date=date(2026, 2, 25))
    booking.record_past_session(by=by, course=course, day=day, location=location)
    return course


def test_no_text_the_day_after_a_session_while_the_next_window_has_not_opened(site, clinician, now):
    # given session 1 yesterday: session 2 is due from Tuesday, so it is "due soon" on the worklist
    course = seen_on(site, SUNDAY, slug="esketamine-trd", by=clinician)
    # when
    counts = refresh_worklist()
    # then the desk sees it, and no text is planned
    assert WorkItem.objects.open().get(kind=WorkKind.DUE_UNBOOKED).course == course
    assert counts["outreach"] == 0
    assert not Outreach.objects.exists()


def test_the_text_goes_on_the_windows_first_day(site, clinician, now):
    # given
    course = seen_on(site, SUNDAY, slug="esketamine-trd", by=clinician)
    refresh_worklist()
    # when Tuesday morning comes
    with time_machine.travel(datetime(2026, 3, 3, 14, tzinfo=UTC), tick=False):  # 09:00 in New York
        refresh_worklist()
        states = send_due_outreach()
    # then
    assert states == [ReminderState.SENT]
    assert Outreach.objects.get().course == course


def test_the_windows_first_day_is_the_locations_local_date(other_site, clinician, now):
    # given an IV course seen at Westside (Los Angeles) on Sunday: session 2 is due from Tuesday
    seen_on(other_site, SUNDAY, slug="ketamine-iv-series", by=clinician)
    # when it is already Tuesday in UTC and New York, but still Monday 22:00 in Los Angeles
    with time_machine.travel(datetime(2026, 3, 3, 6, tzinfo=UTC), tick=False):
        refresh_worklist()
    # then nothing is planned yet
    assert not Outreach.objects.exists()
    # when it is Tuesday in Los Angeles
    with time_machine.travel(datetime(2026, 3, 3, 8, 1, tzinfo=UTC), tick=False):  # 00:01 in Los Angeles
        refresh_worklist()
    # then it is planned, for the end of the site's quiet hours
    assert Outreach.objects.get().send_at == datetime(2026, 3, 3, 16, tzinfo=UTC)  # 08:00 in Los Angeles


def test_a_text_planned_before_the_window_opened_is_voided_at_send_time(site, clinician, now):
    # given a text planned by an earlier sweep while the window has yet to open
    course = seen_on(site, SUNDAY, slug="esketamine-trd", by=clinician)
    Outreach.objects.create(patient=course.patient, course=course, send_at=now)
    # when
    states = send_due_outreach()
    # then
    assert states == [ReminderState.VOID]
    assert Outreach.objects.get().reason == "the next visit is not due yet"
