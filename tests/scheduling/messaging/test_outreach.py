"""Due-visit outreach texts: planned by the worklist sweep at most once a week, sent exactly once.

The clinic is the frozen New York site of tests/conftest.py: now is Monday 2 March 2026, 09:00 local.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from clinic import sms
from scheduling import tasks
from scheduling.booking import services as booking
from scheduling.messaging import outreach
from scheduling.models import (
    Direction,
    MessagePurpose,
    Outreach,
    ReminderPolicy,
    ReminderState,
    TextMessage,
    forbidden_words_in,
)
from scheduling.worklist.sweep import refresh_worklist
from tests.factories import (
    OutreachFactory,
    ReminderPolicyFactory,
    TextMessageFactory,
    TreatmentCourseFactory,
    standard_protocol,
)
from tests.scheduling.conftest import local
from tests.scheduling.messaging.sending import send_due_outreach

# Every test here sends through the in-memory SMS backend, starting with nothing sent.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sent_texts")]


def test_a_patient_due_and_unbooked_gets_a_text_with_the_clinic_name_and_phone(due_course, sent_texts, settings,
                                                                                now):
    # given
    refresh_worklist()
    # when
    assert send_due_outreach() == [ReminderState.SENT]
    # then
    [text] = sent_texts
    assert text["to"] == due_course.patient.phone
    assert text["body"] == f"It's time to book your next visit at {settings.CLINIC_NAME}: call {settings.CLINIC_PHONE}."
    assert forbidden_words_in(text["body"]) == []
    row = Outreach.objects.get()
    assert (row.state, row.sent_at, row.provider_id, row.course) == (ReminderState.SENT, now, text["provider_id"],
                                                                     due_course)
    message = TextMessage.objects.get()
    assert (message.direction, message.purpose, message.counts_toward_caps, message.body) == (
        Direction.OUTBOUND, MessagePurpose.OUTREACH, True, text["body"])


def test_the_sites_own_outreach_template_is_used(due_course, site, sent_texts, settings, now):
    # given
    ReminderPolicyFactory(location=site, outreach_template="{clinic} here: call {phone} to book your visit.")
    refresh_worklist()
    # when
    send_due_outreach()
    # then
    assert sent_texts[0]["body"] == f"{settings.CLINIC_NAME} here: call {settings.CLINIC_PHONE} to book your visit."


def test_a_patient_is_texted_at_most_once_a_week(due_course, sent_texts, now):
    # given a text sent on Monday
    refresh_worklist()
    send_due_outreach()
    # when the sweep runs again the same day, and six days later (the course is overdue by then)
    refresh_worklist()
    with time_machine.travel(now + timedelta(days=6), tick=False):
        refresh_worklist()
        send_due_outreach()
    # then nothing more was planned or sent
    assert Outreach.objects.count() == 1
    assert len(sent_texts) == 1
    # when a week has passed
    with time_machine.travel(now + timedelta(days=7, hours=1), tick=False):
        refresh_worklist()
        assert send_due_outreach() == [ReminderState.SENT]
    # then
    assert Outreach.objects.count() == 2
    assert len(sent_texts) == 2


def test_a_patient_with_two_due_courses_gets_one_text(due_course, site, clinician, sent_texts, now):
    # given the same patient also due for an IV booster course seen at Midtown
    iv = TreatmentCourseFactory(patient=due_course.patient, protocol=standard_protocol("ketamine-iv-series"),
                                start_date=date(2026, 2, 20))
    booking.record_past_session(by=clinician, course=iv, day=date(2026, 2, 26), location=site)
    # when
    refresh_worklist()
    send_due_outreach()
    # then
    assert Outreach.objects.count() == 1
    assert len(sent_texts) == 1


def test_no_text_is_planned_for_a_patient_without_consent(due_course, now):
    # given
    due_course.patient.sms_consent = False
    due_course.patient.save()
    # when
    refresh_worklist()
    # then the desk sees the item, but no text is planned
    assert due_course.work_items.filter(kind="due_unbooked").exists()
    assert not Outreach.objects.exists()


def test_a_course_never_seen_at_a_site_gets_a_worklist_item_but_no_text(esk_course, now):
    refresh_worklist()
    assert esk_course.work_items.filter(kind="due_unbooked").exists()
    assert not Outreach.objects.exists()


def test_a_patient_who_opts_out_after_the_text_was_planned_is_not_texted(due_course, sent_texts, now):
    # given
    refresh_worklist()
    due_course.patient.sms_opted_out_at = now
    due_course.patient.save()
    # when
    assert send_due_outreach() == [ReminderState.FAILED]
    # then
    assert sent_texts == []
    assert Outreach.objects.get().reason == "the patient opted out of texts"
    assert not TextMessage.objects.exists()


def test_a_text_due_in_quiet_hours_waits_for_the_morning(due_course, sent_texts, now, site):
    # given the sweep runs at 22:00 in New York
    with time_machine.travel(local(site, date(2026, 3, 2), 22), tick=False):
        refresh_worklist()
        # then it is planned for 08:00 and nothing is claimed at night
        assert Outreach.objects.get().send_at == local(site, date(2026, 3, 3), 8)
        assert outreach.claim_due_outreach() == []
    # when the morning comes
    with time_machine.travel(local(site, date(2026, 3, 3), 8, 1), tick=False):
        assert send_due_outreach() == [ReminderState.SENT]


def test_a_late_send_that_falls_in_quiet_hours_moves_to_the_morning(due_course, sent_texts, now, site):
    # given a text claimed at 09:00 whose worker only runs at 23:00
    refresh_worklist()
    [outreach_id] = outreach.claim_due_outreach()
    # when
    with time_machine.travel(local(site, date(2026, 3, 2), 23), tick=False):
        assert outreach.send_claimed(outreach_id) == ReminderState.PENDING
    # then
    row = Outreach.objects.get()
    assert (row.send_at, row.attempts) == (local(site, date(2026, 3, 3), 8), 0)
    assert sent_texts == []


def test_the_daily_cap_skips_the_outreach_and_records_why(due_course, sent_texts, now):
    # given the patient already had a reminder text today
    TextMessageFactory(patient=due_course.patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER,
                       counts_toward_caps=True, body="reminder", at=now - timedelta(hours=1))
    refresh_worklist()
    # when
    assert send_due_outreach() == [ReminderState.SKIPPED]
    # then
    assert sent_texts == []
    assert Outreach.objects.get().reason == "daily cap of 1 text reached"


def test_the_weekly_cap_skips_the_outreach(due_course, sent_texts, now):
    # given three texts on the three days before
    for days in (1, 2, 3):
        TextMessageFactory(patient=due_course.patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER,
                           counts_toward_caps=True, body="reminder", at=now - timedelta(days=days))
    refresh_worklist()
    # when
    assert send_due_outreach() == [ReminderState.SKIPPED]
    # then
    assert Outreach.objects.get().reason == "weekly cap of 3 texts reached"
    assert sent_texts == []


def test_two_sweeps_in_a_row_claim_each_text_once_and_publish_one_send(due_course, monkeypatch, now):
    # given the sweep task's publishing, recorded instead of sent to a broker
    refresh_worklist()
    published = []
    monkeypatch.setattr(tasks, "publish", lambda task, calls: published.extend((task.name, *args) for args in calls))
    # when beat's sweep runs twice in a row
    first = tasks.sweep_reminders_task()
    second = tasks.sweep_reminders_task()
    # then the text was claimed once and its send published once
    assert first == {"reminders": 0, "outreach": 1, "desk_texts": 0, "offers": 0}
    assert second == {"reminders": 0, "outreach": 0, "desk_texts": 0, "offers": 0}
    assert published == [("scheduling.send_outreach", Outreach.objects.get().pk)]
    assert Outreach.objects.get().state == ReminderState.QUEUED


def test_a_send_task_delivered_twice_sends_once(due_course, sent_texts, now):
    # given
    refresh_worklist()
    [outreach_id] = outreach.claim_due_outreach()
    # when
    first = outreach.send_claimed(outreach_id)
    second = outreach.send_claimed(outreach_id)
    # then
    assert (first, second) == (ReminderState.SENT, None)
    assert len(sent_texts) == 1
    assert TextMessage.objects.count() == 1


def test_a_visit_booked_before_the_send_voids_the_text(due_course, site, chair, desk_user, sent_texts, now, book):
    # given
    refresh_worklist()
    book(chair, local(site, date(2026, 3, 3), 9), course=due_course, by=desk_user)
    # when
    assert send_due_outreach() == [ReminderState.VOID]
    # then
    assert sent_texts == []
    assert Outreach.objects.get().reason == "a session is booked"


def test_a_provider_timeout_leaves_the_text_unknown(due_course, monkeypatch, sent_texts, now):
    # given
    monkeypatch.setattr(sms.LocmemBackend, "fail_with", [sms.SmsTimeout("no answer from the provider")])
    refresh_worklist()
    # when
    assert send_due_outreach() == [ReminderState.UNKNOWN]
    # then it is never sent again by itself
    row = Outreach.objects.get()
    assert row.provider_called_at == now
    assert "check the provider" in row.reason
    assert send_due_outreach() == []


def test_a_transient_error_retries_later_and_gives_up_after_the_last_try(due_course, monkeypatch, now, settings):
    # given a provider that refuses every time
    settings.TEXT_SEND_ATTEMPTS, settings.TEXT_RETRY_SECONDS, settings.TEXT_RETRY_JITTER_PERCENT = 5, [5, 15, 30], 0
    monkeypatch.setattr(sms.LocmemBackend, "fail_with", [sms.TransientSmsError("busy")] * 5)
    refresh_worklist()
    # when
    assert send_due_outreach() == [ReminderState.PENDING]
    # then
    row = Outreach.objects.get()
    assert (row.send_at, row.attempts, row.provider_called_at) == (now + timedelta(seconds=5), 1, None)
    # when it keeps failing (the last wait repeats)
    for seconds in (5, 20, 50, 80):
        with time_machine.travel(now + timedelta(seconds=seconds), tick=False):
            outcome = send_due_outreach()
    # then
    assert outcome == [ReminderState.FAILED]
    assert Outreach.objects.get().reason.startswith("gave up after 5 tries")


def test_a_permanent_error_fails_the_text(due_course, monkeypatch, now):
    monkeypatch.setattr(sms.LocmemBackend, "fail_with", [sms.PermanentSmsError("invalid number")])
    refresh_worklist()
    assert send_due_outreach() == [ReminderState.FAILED]
    assert Outreach.objects.get().reason == "invalid number"


def test_the_reaper_marks_a_crash_after_the_provider_call_unknown_and_requeues_one_before(due_course, now):
    # given two texts whose workers died eleven minutes ago, one after calling the provider
    refresh_worklist()
    crashed_after = Outreach.objects.get()
    crashed_before = OutreachFactory(send_at=now, state=ReminderState.SENDING, claimed_at=now - timedelta(minutes=11))
    Outreach.objects.filter(pk=crashed_after.pk).update(state=ReminderState.SENDING,
                                                        claimed_at=now - timedelta(minutes=11),
                                                        provider_called_at=now - timedelta(minutes=11))
    # when
    counts = outreach.reap_stuck_outreach().counts()
    # then
    assert counts == {"unknown": 1, "requeued": 1, "re_enqueued": 0}
    crashed_after.refresh_from_db()
    crashed_before.refresh_from_db()
    assert crashed_after.state == ReminderState.UNKNOWN
    assert crashed_before.state == ReminderState.QUEUED


def test_a_template_that_names_a_treatment_is_never_sent(due_course, site, sent_texts, now):
    # given a template that slipped past the check on save (written straight to the database)
    ReminderPolicyFactory(location=site)
    ReminderPolicy.objects.filter(location=site).update(outreach_template="Time for your ketamine: call {phone}.")
    refresh_worklist()
    # when
    assert send_due_outreach() == [ReminderState.FAILED]
    # then
    assert sent_texts == []
    assert "would name a treatment or diagnosis (ketamine)" in Outreach.objects.get().reason
