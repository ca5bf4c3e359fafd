"""A text staff write on the patient page: every text rule holds, and it leaves once.

Refused for a patient who opted out, has no number or no consent, or when it
names a treatment or is too long; held until quiet hours end at the patient's
site and then sent by the sweep; a form posted twice sends one text.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from clinic.errors import Conflict, Invalid, NotAllowed
from scheduling import tasks
from scheduling.messaging import desk_texts
from scheduling.models import MessagePurpose, ReminderState, TextMessage
from scheduling.models.messaging import DeskText

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)


@pytest.fixture
def write(front_desk, patient):
    """``write(message, patient=..., key=...)``: the desk sends ``message`` through the service, as the page does."""

    def write(message: str, *, to=None, key: str | None = None, by=None) -> DeskText:
        return desk_texts.text_patient(by=by or front_desk, patient=to or patient, message=message,
                                       form_key=key or str(uuid.uuid4()))

    return write


@pytest.fixture
def booked_at_midtown(book, chair, patient, now):
    """A visit on Tuesday at Midtown (New York): its quiet hours are the ones a text to the patient keeps."""
    return book(chair, datetime.combine(date(2026, 3, 3), time(10), tzinfo=chair.location.zone), patient=patient)


def test_a_text_written_in_the_day_goes_at_once_with_the_clinics_name(write, patient, sent_texts, settings, now):
    # when
    text = write("  Please call us back about Tuesday.  ")
    # then: sent, recorded with the patient's messages, and not counted toward the reminders' caps
    assert text.state == ReminderState.SENT
    [sent] = sent_texts
    assert sent["to"] == patient.phone
    assert sent["body"] == f"{settings.CLINIC_NAME}: Please call us back about Tuesday."
    message = TextMessage.objects.get(patient=patient, purpose=MessagePurpose.DESK)
    assert (message.body, message.counts_toward_caps) == (sent["body"], False)


def test_the_same_form_posted_twice_sends_one_text(write, sent_texts, now):
    key = str(uuid.uuid4())
    first = write("See you soon", key=key)
    second = write("See you soon", key=key)
    assert first.pk == second.pk
    assert len(sent_texts) == 1


@pytest.mark.parametrize(("change", "code"), [
    ({"sms_opted_out_at": datetime(2026, 3, 1, tzinfo=UTC)}, "opted_out"),
    ({"phone": "", "sms_consent": False, "sms_consent_method": ""}, "no_phone"),
    ({"sms_consent": False, "sms_consent_method": ""}, "no_text_consent"),
])
def test_a_patient_who_may_not_be_texted_is_refused_with_the_reason(write, patient, sent_texts, change, code, now):
    type(patient).objects.filter(pk=patient.pk).update(**change)
    patient.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        write("Hello")
    assert refused.value.code == code
    assert (sent_texts, DeskText.objects.count()) == ([], 0)


def test_a_text_naming_a_treatment_is_refused_beside_the_message(write, sent_texts, now):
    with pytest.raises(Invalid) as refused:
        write("Your Spravato visit is moved")
    assert refused.value.code == "unsafe_text"
    assert "spravato" in refused.value.detail
    assert list(refused.value.fields) == ["message"]
    assert sent_texts == []


def test_a_text_longer_than_three_parts_or_empty_is_refused(write, sent_texts, now):
    with pytest.raises(Invalid) as too_long:
        write("x" * 460)
    assert too_long.value.code == "text_too_long"
    with pytest.raises(Invalid) as empty:
        write("   ")
    assert list(empty.value.fields) == ["message"]
    assert sent_texts == []


def test_parts_are_counted_as_the_network_counts_them():
    assert desk_texts.sms_parts("a" * 160) == desk_texts.Parts(characters=160, segments=1, unicode=False)
    assert desk_texts.sms_parts("a" * 161).segments == 2
    assert desk_texts.sms_parts("a" * 306).segments == 2 and desk_texts.sms_parts("a" * 307).segments == 3
    assert desk_texts.sms_parts("[" * 80).characters == 160  # an extended character takes two places
    typed = desk_texts.sms_parts("We’ll see you " + "a" * 60)  # a curly apostrophe: the text goes as UCS-2
    assert (typed.unicode, typed.segments, typed.per_part) == (True, 2, 67)


def test_in_quiet_hours_it_waits_for_the_morning_at_the_patients_site(write, booked_at_midtown, sent_texts, clock,
                                                                       chair):
    # given: 22:30 on Monday in New York, the patient's site
    clock.move_to(datetime.combine(MONDAY, time(22, 30), tzinfo=chair.location.zone))
    sent_texts.clear()
    # when
    text = write("Running late tomorrow? Call us.")
    # then: held until 08:00 there, nothing sent
    assert text.state == ReminderState.PENDING
    assert text.send_at == datetime.combine(date(2026, 3, 3), time(8), tzinfo=chair.location.zone)
    assert sent_texts == []
    # when the sweep runs before 08:00, then at 08:00
    clock.move_to(datetime.combine(date(2026, 3, 3), time(7, 59), tzinfo=chair.location.zone))
    assert desk_texts.claim_due_desk_texts() == []
    clock.move_to(text.send_at)
    outcomes = [desk_texts.send_claimed(text_id) for text_id in desk_texts.claim_due_desk_texts()]
    # then it goes once
    assert outcomes == [ReminderState.SENT]
    assert [sent["body"] for sent in sent_texts] == [text.body]
    assert desk_texts.claim_due_desk_texts() == []


def test_beats_sweep_publishes_a_held_text_once_when_quiet_hours_end_and_the_reaper_recovers_it(
        write, booked_at_midtown, sent_texts, clock, chair, monkeypatch):
    # given a text held overnight, and the tasks' publishing recorded instead of sent to a broker
    clock.move_to(datetime.combine(MONDAY, time(23), tzinfo=chair.location.zone))
    text = write("Call us in the morning")
    published = []  # the staff texts' sends (the visit's own reminders are published beside them)
    monkeypatch.setattr(tasks, "publish", lambda task, calls: published.extend(
        (task.name, *args) for args in calls if task.name == "scheduling.send_desk_text"))
    # when beat's sweep runs at 08:00 twice in a row
    clock.move_to(text.send_at)
    first, second = tasks.sweep_reminders_task(), tasks.sweep_reminders_task()
    # then it was claimed and published once
    assert (first["desk_texts"], second["desk_texts"]) == (1, 0)
    assert published == [("scheduling.send_desk_text", text.pk)]
    # when the worker that got it died before sending, the reaper publishes it again, and it goes once
    published.clear()
    clock.shift(timedelta(hours=1))
    assert tasks.reap_reminders_task()["desk_texts"]
    assert published == [("scheduling.send_desk_text", text.pk)]
    assert [tasks.send_desk_text_task(text.pk), tasks.send_desk_text_task(text.pk)] == [ReminderState.SENT, None]
    assert [sent["body"] for sent in sent_texts] == [text.body]


def test_a_held_text_is_not_sent_to_a_patient_who_opted_out_meanwhile(write, booked_at_midtown, patient, sent_texts,
                                                                      clock, chair):
    clock.move_to(datetime.combine(MONDAY, time(23), tzinfo=chair.location.zone))
    text = write("Call us in the morning")
    type(patient).objects.filter(pk=patient.pk).update(sms_opted_out_at=timezone.now())
    clock.move_to(text.send_at)
    assert [desk_texts.send_claimed(text_id) for text_id in desk_texts.claim_due_desk_texts()] == [
        ReminderState.FAILED]
    text.refresh_from_db()
    assert "opted out" in text.reason
    assert [sent for sent in sent_texts if sent["body"] == text.body] == []


def test_a_held_text_can_be_withdrawn_until_it_goes(write, booked_at_midtown, front_desk, sent_texts, clock, chair):
    clock.move_to(datetime.combine(MONDAY, time(23), tzinfo=chair.location.zone))
    text = write("Call us in the morning")
    desk_texts.withdraw(by=front_desk, text=text)
    assert text.state == ReminderState.VOID
    clock.move_to(text.send_at)
    assert desk_texts.claim_due_desk_texts() == []
    with pytest.raises(Conflict) as late:
        desk_texts.withdraw(by=front_desk, text=text)
    assert late.value.code == "invalid_state"


def test_only_staff_with_a_clinic_role_may_text(write, no_role_user, sent_texts, now):
    with pytest.raises(NotAllowed):
        write("Hello", by=no_role_user)
    assert sent_texts == []
