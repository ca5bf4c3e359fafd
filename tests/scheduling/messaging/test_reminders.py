"""Reminder texts: planned with the booking, sent exactly once, never stale, never revealing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from clinic import sms
from scheduling.booking import services as booking
from scheduling.messaging import reminders
from scheduling.models import (
    Direction,
    MessagePurpose,
    Reminder,
    ReminderKind,
    ReminderPolicy,
    ReminderState,
    TextMessage,
    forbidden_words_in,
)
from scheduling.tasks import send_reminder_task
from tests.factories import (
    ChairFactory,
    OutreachFactory,
    ReminderPolicyFactory,
    TextMessageFactory,
    TreatmentCourseFactory,
    UserFactory,
    standard_protocol,
)
from tests.scheduling.conftest import local
from tests.scheduling.messaging.sending import due_and_send, reminder

# Every test here sends through the in-memory SMS backend, starting with nothing sent.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sent_texts")]


# --- planning ---------------------------------------------------------------------------------------


def test_booking_plans_a_day_before_and_a_same_day_reminder(esk_course, chair, now, book):
    # when a Thursday 13:00 session is booked
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    # then: Wednesday 17:00 and Thursday 11:00, New York time
    assert reminder(session, ReminderKind.DAY_BEFORE).send_at == local(chair.location, date(2026, 3, 4), 17)
    assert reminder(session, ReminderKind.SAME_DAY).send_at == local(chair.location, date(2026, 3, 5), 11)


def test_a_same_day_reminder_in_quiet_hours_moves_to_the_nearest_allowed_time(esk_course, chair, now, book):
    # 2 hours before 09:00 is 07:00, inside 21:00-08:00: it moves to 08:00
    session = book(chair, local(chair.location, date(2026, 3, 5), 9), course=esk_course)
    assert reminder(session, ReminderKind.SAME_DAY).send_at == local(chair.location, date(2026, 3, 5), 8)


def test_a_reminder_that_cannot_leave_quiet_hours_before_the_visit_goes_the_evening_before(esk_course, chair, now,
                                                                                          book):
    # 2 hours before 08:30 is 06:30; 08:00 would be under an hour before, so 20:59 the evening before
    session = book(chair, local(chair.location, date(2026, 3, 5), 8, 30), course=esk_course)
    assert reminder(session, ReminderKind.SAME_DAY).send_at == local(chair.location, date(2026, 3, 4), 20, 59)


def test_reminders_keep_local_time_across_the_spring_clock_change(site, chair, book):
    # given a Monday 09:00 session the day after clocks go forward (8 March 2026)
    with time_machine.travel(datetime(2026, 3, 6, 15, tzinfo=UTC), tick=False):
        course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=date(2026, 3, 9))
        session = book(chair, local(chair.location, date(2026, 3, 9), 9), course=course)
    # then the day-before reminder is at 17:00 EDT (21:00 UTC), the same-day one at 08:00 EDT (12:00 UTC)
    assert reminder(session, ReminderKind.DAY_BEFORE).send_at == datetime(2026, 3, 8, 21, tzinfo=UTC)
    assert reminder(session, ReminderKind.SAME_DAY).send_at == datetime(2026, 3, 9, 12, tzinfo=UTC)


def test_reminders_keep_local_time_across_the_autumn_clock_change(site, chair, book):
    with time_machine.travel(datetime(2026, 10, 29, 15, tzinfo=UTC), tick=False):
        course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=date(2026, 11, 2))
        session = book(chair, local(chair.location, date(2026, 11, 2), 9), course=course)
    # 17:00 EST on Sunday 1 November is 22:00 UTC
    assert reminder(session, ReminderKind.DAY_BEFORE).send_at == datetime(2026, 11, 1, 22, tzinfo=UTC)
    assert reminder(session, ReminderKind.SAME_DAY).send_at == datetime(2026, 11, 2, 13, tzinfo=UTC)


def test_quiet_hours_are_the_locations_policy(site, esk_course, chair, now, book):
    ReminderPolicyFactory(location=site, quiet_from=time(20), quiet_until=time(9), day_before_at=time(19))
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    assert reminder(session, ReminderKind.DAY_BEFORE).send_at == local(site, date(2026, 3, 4), 19)
    assert reminder(session, ReminderKind.SAME_DAY).send_at == local(site, date(2026, 3, 5), 11)


def test_a_reminder_whose_time_passed_before_booking_is_recorded_as_skipped(esk_course, chair, now, book):
    # now is Monday 09:00; a Tuesday 13:00 session's day-before reminder is Monday 17:00 (fine),
    # but a Monday 13:00 session booked now has no day-before reminder to send
    session = book(chair, local(chair.location, date(2026, 3, 3), 13), course=esk_course)
    assert reminder(session, ReminderKind.DAY_BEFORE).state == ReminderState.PENDING
    other = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=date(2026, 3, 2))
    today = book(chair, local(chair.location, date(2026, 3, 2), 14), course=other)
    skipped = reminder(today, ReminderKind.DAY_BEFORE)
    assert skipped.state == ReminderState.SKIPPED
    assert "booked after" in skipped.reason


# --- sending ----------------------------------------------------------------------------------------


def test_a_due_reminder_is_sent_once_with_local_time_and_no_treatment_words(esk_course, chair, now, book):
    # given a Thursday 13:00 session
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    # when the day-before reminder comes due
    states = due_and_send(local(chair.location, date(2026, 3, 4), 17))
    # then
    assert states == [ReminderState.SENT]
    assert len(sms.outbox) == 1
    body = sms.outbox[0]["body"]
    assert "Thursday March 5" in body and "1:00 PM" in body
    assert forbidden_words_in(body) == []
    sent = reminder(session, ReminderKind.DAY_BEFORE)
    assert (sent.state, sent.provider_id) == (ReminderState.SENT, sms.outbox[0]["provider_id"])
    message = TextMessage.objects.get(reminder=sent)
    assert (message.direction, message.purpose, message.counts_toward_caps) == (
        Direction.OUTBOUND, MessagePurpose.REMINDER, True)


def test_a_send_task_delivered_twice_sends_once(esk_course, chair, now, book):
    book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    with time_machine.travel(local(chair.location, date(2026, 3, 4), 17), tick=False):
        [reminder_id] = reminders.claim_due_reminders()
        first = send_reminder_task(reminder_id)
        second = send_reminder_task(reminder_id)
    assert (first, second) == (ReminderState.SENT, None)
    assert len(sms.outbox) == 1


def test_a_sweep_run_twice_claims_each_reminder_once(esk_course, chair, now, book):
    book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    with time_machine.travel(local(chair.location, date(2026, 3, 5), 12), tick=False):
        first = reminders.claim_due_reminders()
        second = reminders.claim_due_reminders()
    assert len(first) == 2 and second == []


def test_a_worker_killed_after_calling_the_provider_leaves_the_reminder_unknown(esk_course, chair, now, book):
    # given a worker that claimed the reminder and called the provider, then died
    book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    at = local(chair.location, date(2026, 3, 4), 17)
    with time_machine.travel(at, tick=False):
        [reminder_id] = reminders.claim_due_reminders()
        assert reminders.claim_for_sending(reminder_id)
        Reminder.objects.filter(pk=reminder_id).update(provider_called_at=at)
    # when the reaper runs later, and the task is redelivered too
    with time_machine.travel(at + timedelta(minutes=15), tick=False):
        reaped = reminders.reap_stuck_reminders()
        redelivered = send_reminder_task(reminder_id)
    # then it is unknown for a person to check, and nothing was sent again
    assert reaped.unknown == 1
    assert redelivered is None
    assert Reminder.objects.get(pk=reminder_id).state == ReminderState.UNKNOWN
    assert sms.outbox == []


def test_a_worker_killed_before_calling_the_provider_is_retried_once(esk_course, chair, now, book):
    book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    at = local(chair.location, date(2026, 3, 4), 17)
    with time_machine.travel(at, tick=False):
        [reminder_id] = reminders.claim_due_reminders()
        assert reminders.claim_for_sending(reminder_id)  # then the worker dies
    with time_machine.travel(at + timedelta(minutes=15), tick=False):
        assert reminders.reap_stuck_reminders().counts()["requeued"] == 1
        assert send_reminder_task(reminder_id) == ReminderState.SENT
        assert send_reminder_task(reminder_id) is None
    assert len(sms.outbox) == 1


def test_a_provider_timeout_is_unknown_and_never_resent(esk_course, chair, now, book):
    book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    sms.LocmemBackend.fail_with.append(sms.SmsTimeout("no answer"))
    states = due_and_send(local(chair.location, date(2026, 3, 4), 17))
    assert states == [ReminderState.UNKNOWN]
    assert due_and_send(local(chair.location, date(2026, 3, 4), 18)) == []


def test_a_transient_error_retries_within_seconds_then_a_little_later_each_time(esk_course, chair, now, book,
                                                                                 settings):
    settings.TEXT_RETRY_SECONDS, settings.TEXT_RETRY_JITTER_PERCENT = [5, 15, 30], 0
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    sms.LocmemBackend.fail_with.extend([sms.TransientSmsError("429"), sms.TransientSmsError("503")])
    at = local(chair.location, date(2026, 3, 4), 17)
    assert due_and_send(at) == [ReminderState.PENDING]
    assert reminder(session, ReminderKind.DAY_BEFORE).send_at == at + timedelta(seconds=5)
    assert due_and_send(at + timedelta(seconds=4)) == []  # not before its time
    assert due_and_send(at + timedelta(seconds=5)) == [ReminderState.PENDING]
    assert reminder(session, ReminderKind.DAY_BEFORE).send_at == at + timedelta(seconds=20)
    assert due_and_send(at + timedelta(seconds=20)) == [ReminderState.SENT]
    assert len(sms.outbox) == 1


def test_a_transient_error_waits_as_long_as_the_provider_asks(esk_course, chair, now, book, settings):
    settings.TEXT_RETRY_MAX_SECONDS = 600
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    sms.LocmemBackend.fail_with.extend([sms.TransientSmsError("429", retry_after=90),
                                        sms.TransientSmsError("429", retry_after=3600)])
    at = local(chair.location, date(2026, 3, 4), 17)
    assert due_and_send(at) == [ReminderState.PENDING]
    assert reminder(session, ReminderKind.DAY_BEFORE).send_at == at + timedelta(seconds=90)
    assert "retrying in 90 s" in reminder(session, ReminderKind.DAY_BEFORE).reason
    # an hour is more than the longest wait: capped
    assert due_and_send(at + timedelta(seconds=90)) == [ReminderState.PENDING]
    assert reminder(session, ReminderKind.DAY_BEFORE).send_at == at + timedelta(seconds=90 + 600)


def test_a_retry_that_would_come_too_near_the_visit_is_skipped_not_sent(esk_course, chair, now, book, settings):
    # given a same-day reminder refused at 11:59 for a 13:00 visit (the policy's lead time is an hour)
    settings.TEXT_RETRY_JITTER_PERCENT = 0
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    same_day = reminder(session, ReminderKind.SAME_DAY)
    Reminder.objects.filter(pk=same_day.pk).update(send_at=local(chair.location, date(2026, 3, 5), 11, 59))
    Reminder.objects.filter(session=session, kind=ReminderKind.DAY_BEFORE).update(state=ReminderState.SENT)
    sms.LocmemBackend.fail_with.append(sms.TransientSmsError("503"))
    refused_at = local(chair.location, date(2026, 3, 5), 11, 59) + timedelta(seconds=58)
    assert due_and_send(refused_at) == [ReminderState.PENDING]
    # when its retry comes due, past the lead time
    assert due_and_send(refused_at + timedelta(seconds=5)) == [ReminderState.SKIPPED]
    # then nothing was sent
    assert sms.outbox == []
    assert "too late" in reminder(session, ReminderKind.SAME_DAY).reason


def test_a_transient_error_gives_up_after_the_last_try(esk_course, chair, now, book, settings):
    settings.TEXT_SEND_ATTEMPTS, settings.TEXT_RETRY_SECONDS, settings.TEXT_RETRY_JITTER_PERCENT = 3, [5], 0
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    sms.LocmemBackend.fail_with.extend([sms.TransientSmsError("503")] * 3)
    at = local(chair.location, date(2026, 3, 4), 17)
    assert [due_and_send(at + timedelta(seconds=5 * n)) for n in range(3)] == [
        [ReminderState.PENDING], [ReminderState.PENDING], [ReminderState.FAILED]]
    assert reminder(session, ReminderKind.DAY_BEFORE).reason.startswith("gave up after 3 tries")


def test_a_permanent_refusal_fails_with_the_reason(esk_course, chair, now, book):
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    sms.LocmemBackend.fail_with.append(sms.PermanentSmsError("provider refused (21211): invalid number"))
    assert due_and_send(local(chair.location, date(2026, 3, 4), 17)) == [ReminderState.FAILED]
    assert "invalid number" in reminder(session, ReminderKind.DAY_BEFORE).reason


# --- never stale ------------------------------------------------------------------------------------


def test_cancel_voids_pending_reminders(esk_course, chair, now, book):
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    booking.cancel_session(by=UserFactory(), session=session, reason="Unwell")
    assert set(Reminder.objects.filter(session=session).values_list("state", flat=True)) == {ReminderState.VOID}
    assert due_and_send(local(chair.location, date(2026, 3, 5), 12)) == []


def test_reschedule_voids_the_old_reminders_and_plans_new_ones(esk_course, chair, now, book):
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    moved = booking.reschedule_session(by=UserFactory(), session=session, start=local(chair.location,
                                                                                      date(2026, 3, 6), 10))
    old = Reminder.objects.filter(session=session, revision=0)
    assert set(old.values_list("state", flat=True)) == {ReminderState.VOID}
    assert reminder(moved, ReminderKind.DAY_BEFORE).send_at == local(chair.location, date(2026, 3, 5), 17)
    assert due_and_send(local(chair.location, date(2026, 3, 5), 17)) == [ReminderState.SENT]
    assert "Friday March 6" in sms.outbox[0]["body"]


def test_a_reminder_that_comes_due_under_an_hour_before_the_visit_is_skipped(esk_course, chair, now, book):
    # given the workers were down: the same-day reminder (11:00) is picked up at 12:30 for a 13:00 visit
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    Reminder.objects.filter(session=session, kind=ReminderKind.DAY_BEFORE).update(state=ReminderState.VOID)
    states = due_and_send(local(chair.location, date(2026, 3, 5), 12, 30))
    assert states == [ReminderState.SKIPPED]
    assert "too late" in reminder(session, ReminderKind.SAME_DAY).reason
    assert sms.outbox == []


def test_no_text_without_consent(esk_course, chair, now, book):
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    patient = esk_course.patient
    patient.sms_consent = False
    patient.save()
    assert due_and_send(local(chair.location, date(2026, 3, 4), 17)) == [ReminderState.SKIPPED]
    assert "consent" in reminder(session, ReminderKind.DAY_BEFORE).reason


def test_an_opted_out_patient_is_failed_with_the_reason(esk_course, chair, now, book):
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    patient = esk_course.patient
    patient.sms_opted_out_at = now
    patient.save()
    assert due_and_send(local(chair.location, date(2026, 3, 4), 17)) == [ReminderState.FAILED]
    assert "opted out" in reminder(session, ReminderKind.DAY_BEFORE).reason


# --- caps -------------------------------------------------------------------------------------------


def _sent_text(patient, at):
    TextMessageFactory(patient=patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER,
                       counts_toward_caps=True, body="x", at=at)


def test_the_daily_cap_skips_a_second_text_the_same_local_day(esk_course, chair, now, book):
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    _sent_text(esk_course.patient, local(chair.location, date(2026, 3, 4), 9))
    assert due_and_send(local(chair.location, date(2026, 3, 4), 17)) == [ReminderState.SKIPPED]
    assert "daily cap" in reminder(session, ReminderKind.DAY_BEFORE).reason


def test_a_text_yesterday_evening_local_does_not_count_toward_today(esk_course, chair, now, book):
    # 23:30 on 3 March in New York is 04:30 UTC on 4 March: a different local day
    book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    _sent_text(esk_course.patient, local(chair.location, date(2026, 3, 3), 23, 30))
    assert due_and_send(local(chair.location, date(2026, 3, 4), 17)) == [ReminderState.SENT]


def test_the_weekly_cap_skips_a_fourth_text_in_seven_days(esk_course, chair, now, book):
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    for day in (26, 27, 28):
        _sent_text(esk_course.patient, datetime(2026, 2, day, 16, tzinfo=UTC))
    assert due_and_send(local(chair.location, date(2026, 3, 4), 17)) == [ReminderState.SKIPPED]
    assert "weekly cap" in reminder(session, ReminderKind.DAY_BEFORE).reason


def test_a_text_left_unknown_counts_toward_the_cap(site, esk_course, chair, now, book):
    # given the patient's text of this morning, about another course's visit, whose outcome is unknown (the
    # provider may have delivered it)
    infusions = TreatmentCourseFactory(patient=esk_course.patient, protocol=standard_protocol("ketamine-iv-series"),
                                       start_date=date(2026, 3, 4))
    iv_chair = ChairFactory(location=site, name="Pump", has_infusion_pump=True, serves_esketamine=False)
    earlier = book(iv_chair, local(site, date(2026, 3, 4), 13), course=infusions)
    Reminder.objects.filter(session=earlier).update(state=ReminderState.VOID)
    Reminder.objects.filter(session=earlier, kind=ReminderKind.SAME_DAY).update(
        state=ReminderState.UNKNOWN, provider_called_at=local(chair.location, date(2026, 3, 4), 11))
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    # then tonight's reminder for the next visit waits behind the daily cap
    assert due_and_send(local(chair.location, date(2026, 3, 4), 17)) == [ReminderState.SKIPPED]
    assert "daily cap" in reminder(session, ReminderKind.DAY_BEFORE).reason


@pytest.mark.parametrize("settled", [False, True])
def test_a_due_visit_text_left_unknown_counts_toward_the_cap_and_a_settled_one_as_what_it_was(
        esk_course, chair, now, book, settled):
    OutreachFactory(patient=esk_course.patient, course=esk_course, send_at=now,
                    state=ReminderState.FAILED if settled else ReminderState.UNKNOWN,
                    provider_called_at=local(chair.location, date(2026, 3, 4), 9))
    book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    # a text settled as not sent leaves room for tonight's reminder; one still unknown does not
    expected = ReminderState.SENT if settled else ReminderState.SKIPPED
    assert due_and_send(local(chair.location, date(2026, 3, 4), 17)) == [expected]


def test_under_the_daily_cap_the_lower_priority_text_gives_way(site, esk_course, chair, now, book):
    # given a policy whose same-day reminder (lower priority) falls on the same local day as the
    # next session's day-before reminder (higher priority, later that day)
    book(chair, local(site, date(2026, 3, 3), 13), course=esk_course)
    second = TreatmentCourseFactory(patient=esk_course.patient, protocol=standard_protocol("ketamine-iv-series"),
                                    start_date=date(2026, 3, 3))
    iv_chair = ChairFactory(location=site, name="Pump", has_infusion_pump=True, serves_esketamine=False)
    book(iv_chair, local(site, date(2026, 3, 4), 13), course=second)
    assert due_and_send(local(site, date(2026, 3, 2), 17)) == [ReminderState.SENT]  # Tuesday's day-before
    # when the Tuesday same-day reminder (11:00) comes due, the Wednesday one's day-before (Tue 17:00) is pending
    with time_machine.travel(local(site, date(2026, 3, 3), 11), tick=False):
        ids = reminders.claim_due_reminders()
        states = [send_reminder_task(reminder_id) for reminder_id in ids]
    # then the same-day reminder is skipped to leave room for the day-before one
    assert ReminderState.SKIPPED in states
    same_day = Reminder.objects.get(session__local_date=date(2026, 3, 3), kind=ReminderKind.SAME_DAY)
    assert "daily cap" in same_day.reason
    assert due_and_send(local(site, date(2026, 3, 3), 17)) == [ReminderState.SENT]


# --- templates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["day_before_template", "same_day_template", "outreach_template"])
@pytest.mark.parametrize("word", ["ketamine", "Esketamine", "SPRAVATO", "infusion", "depression"])
def test_a_template_naming_a_treatment_or_diagnosis_is_refused(site, field, word):
    policy = ReminderPolicy(location=site, **{field: f"{{clinic}}: your {word} visit at {{time}}"})
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert field in refused.value.message_dict


def test_an_unknown_placeholder_is_refused(site):
    with pytest.raises(ValidationError):
        ReminderPolicy(location=site, day_before_template="{clinic} {drug}").full_clean()


@pytest.mark.parametrize("kind", ReminderKind.values)
def test_no_default_reminder_text_contains_a_forbidden_word(esk_course, iv_course, chair, iv_chair, now, kind,
                                                            book):
    for course, seat in ((esk_course, chair), (iv_course, iv_chair)):
        session = book(seat, local(seat.location, date(2026, 3, 5), 13), course=course)
        body = reminders.body_for(reminder(session, kind), ReminderPolicy.for_location(seat.location))
        assert forbidden_words_in(body) == [], body
        assert "Riverside Wellness Clinic" in body or "{clinic}" not in body


# --- concurrency --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_and_duplicate_sends_at_once_send_each_reminder_exactly_once(site, chair, now, book):
    # given twenty sessions on Thursday, each with two reminders due by Thursday noon
    chairs = [chair] + [ChairFactory(location=site, name=f"Extra {n}") for n in range(19)]
    for seat in chairs:
        course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=date(2026, 3, 3))
        book(seat, local(seat.location, date(2026, 3, 5), 13), course=course)
    ReminderPolicyFactory(location=site, daily_cap=5, weekly_cap=10)
    barrier = threading.Barrier(4)

    def sweep_and_send():
        try:
            barrier.wait(timeout=30)
            ids = reminders.claim_due_reminders()
            # every claimed id is "delivered" twice, as a broker might
            return [send_reminder_task(i) for i in ids + ids]
        finally:
            connection.close()

    # when four workers sweep and send at the same moment
    with time_machine.travel(local(site, date(2026, 3, 5), 12), tick=False), ThreadPoolExecutor(4) as pool:
        results = [state for batch in pool.map(lambda _: sweep_and_send(), range(4)) for state in batch]
    # then each of the 40 reminders was sent exactly once
    assert results.count(ReminderState.SENT) == 40
    assert len(sms.outbox) == 40
    assert len({message["provider_id"] for message in sms.outbox}) == 40
    assert Reminder.objects.filter(state=ReminderState.SENT).count() == 40


def test_withdrawing_consent_voids_pending_reminders_and_giving_it_plans_them_again(desk_api, esk_course, chair,
                                                                                    now, book):
    # given a booked session with pending reminders
    session = book(chair, local(chair.location, date(2026, 3, 5), 13), course=esk_course)
    patient = esk_course.patient
    # when consent is withdrawn through the patients API
    assert desk_api.patch(f"/api/patients/{patient.pk}/", {"sms_consent": False}, format="json").status_code == 200
    # then
    assert set(Reminder.objects.filter(session=session).values_list("state", flat=True)) == {ReminderState.VOID}
    # and when consent is given again, the reminders are planned again
    desk_api.patch(f"/api/patients/{patient.pk}/", {"sms_consent": True, "sms_consent_method": "verbal"},
                   format="json")
    assert reminder(session, ReminderKind.DAY_BEFORE).state == ReminderState.PENDING


def test_the_daily_cap_counts_the_local_day_on_the_spring_forward_day(site, chair, book):
    # given a text at 00:30 on Sunday 8 March 2026 in New York (05:30 UTC; the day is 23 hours long)
    with time_machine.travel(datetime(2026, 3, 6, 15, tzinfo=UTC), tick=False):
        course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=date(2026, 3, 9))
        session = book(chair, local(chair.location, date(2026, 3, 9), 13), course=course)
    _sent_text(course.patient, datetime(2026, 3, 8, 5, 30, tzinfo=UTC))
    # when the day-before reminder comes due at 17:00 EDT the same local day (21:00 UTC)
    states = due_and_send(datetime(2026, 3, 8, 21, tzinfo=UTC))
    # then it is skipped by the daily cap; on the next local day the same-day reminder goes out
    assert states == [ReminderState.SKIPPED]
    assert "daily cap" in reminder(session, ReminderKind.DAY_BEFORE).reason
    assert due_and_send(local(site, date(2026, 3, 9), 11)) == [ReminderState.SENT]
