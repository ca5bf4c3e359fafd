"""A site's reminder policy changed: the reminders already planned follow it; claimed ones are left to their send.

"Now" is Monday 2 March 2026, 09:00 in New York; US clocks go forward on Sunday 8 March.
Midtown (``site``) texts on the defaults until a test changes them: the day before at 17:00,
on the day 2 hours before, quiet from 21:00 to 08:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine

from clinic import sms
from scheduling.messaging import reminders
from scheduling.messaging.policy_changes import save_reminder_policy
from scheduling.models import Reminder, ReminderKind, ReminderPolicy, ReminderState
from scheduling.tasks import send_reminder_task
from tests.factories import ChairFactory, LocationFactory, ReminderPolicyFactory
from tests.scheduling.conftest import local
from tests.scheduling.messaging.sending import reminder

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "sent_texts")]

DAY_BEFORE, SAME_DAY = ReminderKind.DAY_BEFORE, ReminderKind.SAME_DAY
WEDNESDAY = date(2026, 3, 4)


def change_policy(location, **values) -> None:
    """Save ``location``'s policy with ``values`` changed, as the page and the admin do."""
    policy = ReminderPolicy.for_location(location)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.full_clean()
    save_reminder_policy(policy=policy)


@pytest.fixture
def uptown(db):
    """Another site, in Chicago, with a chair, on the defaults."""
    location = LocationFactory(name="Uptown", time_zone="America/Chicago")
    return ChairFactory(location=location, name="Uptown 1")


def test_turning_the_day_before_reminder_off_voids_the_pending_ones_at_that_site_only(site, chair, uptown, book):
    # given a visit on Tuesday whose day-before reminder the sweep claimed at 17:00 on Monday, a visit on Wednesday
    # whose day-before reminder is pending, and one on Wednesday at another site
    tuesday = book(chair, local(site, date(2026, 3, 3), 10))
    wednesday = book(chair, local(site, WEDNESDAY, 10))
    elsewhere = book(uptown, local(uptown.location, WEDNESDAY, 10))
    with time_machine.travel(local(site, date(2026, 3, 2), 17), tick=False):
        assert reminders.claim_due_reminders() == [reminder(tuesday, DAY_BEFORE).pk]
        # when the manager turns the day-before reminder off at Midtown
        change_policy(site, day_before_enabled=False)
    # then Wednesday's is void with the reason, Tuesday's claimed one is left to its send, Uptown's is untouched
    voided = reminder(wednesday, DAY_BEFORE)
    assert (voided.state, voided.reason) == (ReminderState.VOID, "day before reminders turned off at the site")
    assert reminder(tuesday, DAY_BEFORE).state == ReminderState.QUEUED
    assert reminder(elsewhere, DAY_BEFORE).state == ReminderState.PENDING
    # and the same-day reminders, still on, keep their times
    assert reminder(wednesday, SAME_DAY).state == ReminderState.PENDING
    assert reminder(wednesday, SAME_DAY).send_at == local(site, WEDNESDAY, 8)


def test_a_send_claimed_before_its_kind_was_turned_off_is_not_sent(site, chair, book, sent_texts):
    # given Tuesday's day-before reminder claimed by the sweep at 17:00 on Monday
    session = book(chair, local(site, date(2026, 3, 3), 10))
    at_five = local(site, date(2026, 3, 2), 17)
    with time_machine.travel(at_five, tick=False):
        [claimed] = reminders.claim_due_reminders()
        # when the day-before reminder is turned off before the send task runs
        change_policy(site, day_before_enabled=False)
        state = send_reminder_task(claimed)
    # then the send finds its kind off: nothing reaches the provider
    assert state == ReminderState.VOID
    assert sent_texts == []
    assert reminder(session, DAY_BEFORE).reason == "day before reminders turned off at the site"


def test_a_new_day_before_time_replans_pending_reminders_at_the_sites_local_time_across_the_clock_change(
        site, chair, book):
    # given a visit on Monday 9 March, the day after clocks go forward: its reminder is Sunday 17:00 EDT (21:00 UTC)
    session = book(chair, local(site, date(2026, 3, 9), 10))
    assert reminder(session, DAY_BEFORE).send_at == datetime(2026, 3, 8, 21, 0, tzinfo=UTC)
    # when the manager moves the day-before reminder to 18:00 (today, while New York is on EST)
    change_policy(site, day_before_at=time(18))
    # then it goes at 18:00 on Sunday in New York's summer time: 22:00 UTC, not 23:00
    moved = reminder(session, DAY_BEFORE)
    assert moved.state == ReminderState.PENDING
    assert moved.send_at == datetime(2026, 3, 8, 22, 0, tzinfo=UTC)
    assert site.local(moved.send_at).time() == time(18)


def test_a_new_same_day_lead_replans_pending_same_day_reminders(site, chair, book):
    session = book(chair, local(site, WEDNESDAY, 14))
    change_policy(site, same_day_hours_before=4)
    assert reminder(session, SAME_DAY).send_at == local(site, WEDNESDAY, 10)


def test_a_new_time_that_has_already_passed_sends_the_reminder_now_rather_than_never(site, chair, book):
    # given a visit tomorrow, its day-before reminder due at 17:00 today; at 14:00 the manager moves it to 12:00
    session = book(chair, local(site, date(2026, 3, 3), 10))
    at_two = local(site, date(2026, 3, 2), 14)
    with time_machine.travel(at_two, tick=False):
        change_policy(site, day_before_at=time(12))
    # then it goes at once rather than being lost
    moved = reminder(session, DAY_BEFORE)
    assert (moved.state, moved.send_at) == (ReminderState.PENDING, at_two)


def test_turning_the_same_day_reminder_on_plans_it_for_the_visits_booked_without_it(site, chair, book):
    # given a site that sent no same-day reminder when Wednesday's visit was booked
    ReminderPolicyFactory(location=site, same_day_enabled=False)
    session = book(chair, local(site, WEDNESDAY, 10))
    assert not session.reminders.filter(kind=SAME_DAY).exists()
    # when it is turned on
    change_policy(site, same_day_enabled=True)
    # then the visit has one, 2 hours before
    planned = reminder(session, SAME_DAY)
    assert (planned.state, planned.send_at) == (ReminderState.PENDING, local(site, WEDNESDAY, 8))


def test_a_kind_turned_off_and_on_again_is_planned_again_on_its_one_row(site, chair, book):
    session = book(chair, local(site, WEDNESDAY, 10))
    change_policy(site, day_before_enabled=False)
    change_policy(site, day_before_enabled=True, day_before_at=time(16))
    rows = Reminder.objects.filter(session=session, kind=DAY_BEFORE)
    assert [(row.state, row.reason, row.send_at) for row in rows] == [
        (ReminderState.PENDING, "", local(site, date(2026, 3, 3), 16))]


def test_a_kind_turned_on_after_its_time_is_recorded_as_skipped(site, chair, book):
    # given a visit today at 13:00 at a site with no same-day reminder; at 12:00 it is turned on (its time: 11:00)
    ReminderPolicyFactory(location=site, same_day_enabled=False)
    session = book(chair, local(site, date(2026, 3, 2), 13))
    with time_machine.travel(local(site, date(2026, 3, 2), 12), tick=False):
        change_policy(site, same_day_enabled=True)
    skipped = reminder(session, SAME_DAY)
    assert (skipped.state, skipped.reason) == (ReminderState.SKIPPED,
                                               "the same day reminder was turned on after its time")


def test_sent_reminders_are_never_touched_by_a_policy_change(site, chair, book, sent_texts):
    session = book(chair, local(site, date(2026, 3, 3), 10))
    with time_machine.travel(local(site, date(2026, 3, 2), 17), tick=False):
        [claimed] = reminders.claim_due_reminders()
        assert send_reminder_task(claimed) == ReminderState.SENT
        change_policy(site, day_before_enabled=False, same_day_enabled=False)
    assert reminder(session, DAY_BEFORE).state == ReminderState.SENT
    assert reminder(session, SAME_DAY).state == ReminderState.VOID
    assert len(sms.outbox) == 1


def test_replanning_a_site_takes_a_fixed_number_of_queries_whatever_its_sessions(site, chair, chair2, book,
                                                                              django_assert_max_num_queries):
    # given five visits with their reminders, and a site that changes every kind at once
    for seat, hour in ((chair, 8), (chair, 11), (chair, 14), (chair2, 8), (chair2, 11)):
        book(seat, local(site, WEDNESDAY, hour))
    policy = ReminderPolicy.for_location(site)
    policy.day_before_at, policy.same_day_enabled = time(16), False
    # when / then
    with django_assert_max_num_queries(12):
        replanned = save_reminder_policy(policy=policy)
    assert (replanned.voided, replanned.moved) == (5, 5)
