"""Every text, every kind: the forbidden words are checked in the final text as sent, in one place
(``scheduling.messaging.jobs.send_text``), whatever put them there: a location's name, CLINIC_NAME or a
template written straight to the database.

The clinic is the frozen New York site of ``conftest``: now is Monday 2 March 2026, 09:00 local.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path

import pytest

from scheduling.messaging import jobs
from scheduling.models import (
    Location,
    Outreach,
    Reminder,
    ReminderKind,
    ReminderPolicy,
    ReminderState,
    TextMessage,
)
from scheduling.worklist.sweep import refresh_worklist
from tests.scheduling.conftest import local
from tests.scheduling.messaging.sending import due_and_send, reminder, send_due_outreach

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
THURSDAY = date(2026, 3, 5)
WITH_LOCATION = "{clinic} at {location}: see you {day} at {time}. Reply C to confirm. {phone}"


@pytest.fixture
def session(book, chair, esk_course):
    """The course's session on Thursday 5 March at 13:00: its day-before reminder is Wednesday 17:00."""
    return book(chair, local(chair.location, THURSDAY, 13), course=esk_course)


@pytest.fixture
def jobs_log():
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.INFO)
    handler.emit = records.append
    logger = logging.getLogger("scheduling.messaging.jobs")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def name_site_in_the_database(site: Location, name: str) -> None:
    """A name saved before names were checked (a plain UPDATE skips ``clean``)."""
    Location.objects.filter(pk=site.pk).update(name=name)


# --- reminders ----------------------------------------------------------------------------------------


def test_a_reminder_naming_a_location_with_a_drug_word_is_not_sent(site, session, sent_texts, jobs_log):
    # given a template that names the site, and a site named before names were checked
    ReminderPolicy.objects.create(location=site, day_before_template=WITH_LOCATION)
    name_site_in_the_database(site, "Ketamine Care Midtown")
    # when the day-before reminder comes due
    states = due_and_send(local(site, date(2026, 3, 4), 17))
    # then it is not sent, and the row says why
    assert states == [ReminderState.FAILED]
    assert sent_texts == []
    row = reminder(session, ReminderKind.DAY_BEFORE)
    assert "would name a treatment or diagnosis (ketamine)" in row.reason
    assert row.provider_called_at is None  # nothing left the building: no one needs to check the provider
    assert not TextMessage.objects.exists()
    # and the log names the row, not the patient's number or the text
    [record] = [r for r in jobs_log if r.levelno == logging.ERROR]
    message = record.getMessage()
    assert str(row.pk) in message
    assert session.patient.phone[-4:] not in message and "Ketamine" not in message


def test_a_reminder_is_not_sent_when_the_clinic_name_names_a_treatment(site, settings, session, sent_texts):
    # given
    settings.CLINIC_NAME = "SPRAVATO Center"
    # when
    states = due_and_send(local(site, date(2026, 3, 4), 17))
    # then
    assert states == [ReminderState.FAILED]
    assert sent_texts == []
    assert "(spravato)" in reminder(session, ReminderKind.DAY_BEFORE).reason


def test_a_reminder_template_written_straight_to_the_database_is_checked_when_sent(site, session,
                                                                                   sent_texts):
    # given
    ReminderPolicy.objects.create(location=site)
    ReminderPolicy.objects.filter(location=site).update(same_day_template="Your infusion is at {time}.")
    # when the same-day reminder comes due (the day-before one goes out as usual)
    due_and_send(local(site, date(2026, 3, 4), 17))
    states = due_and_send(local(site, THURSDAY, 11))
    # then
    assert states == [ReminderState.FAILED]
    assert len(sent_texts) == 1
    assert "(infusion)" in reminder(session, ReminderKind.SAME_DAY).reason


def test_a_clean_reminder_is_sent_as_before(site, book, chair, esk_course, sent_texts):
    ReminderPolicy.objects.create(location=site, day_before_template=WITH_LOCATION)
    book(chair, local(site, THURSDAY, 13), course=esk_course)
    assert due_and_send(local(site, date(2026, 3, 4), 17)) == [ReminderState.SENT]
    assert "Midtown" in sent_texts[0]["body"]


# --- outreach -----------------------------------------------------------------------------------------


def test_an_outreach_text_naming_a_location_with_a_drug_word_is_not_sent(due_course, site,
                                                                         sent_texts):
    # given
    ReminderPolicy.objects.create(location=site, outreach_template="Time to book at {location}: call {phone}.")
    name_site_in_the_database(site, "Esketamine Midtown")
    refresh_worklist()
    # when
    assert send_due_outreach() == [ReminderState.FAILED]
    # then
    assert sent_texts == []
    row = Outreach.objects.get()
    assert "would name a treatment or diagnosis (ketamine, esketamine)" in row.reason
    assert row.provider_called_at is None


# --- one way out --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Your KETAMINE visit", "depression clinic", "Esketamine", "an Infusion"])
def test_the_check_refuses_a_forbidden_word_in_any_case(text):
    with pytest.raises(jobs.UnsafeText):
        jobs.checked_text(text)


def test_the_check_passes_a_clean_text_unchanged():
    text = "Riverside Wellness Clinic: see you Thursday at 1:00 PM."
    assert jobs.checked_text(text) is text


def test_send_text_never_hands_a_forbidden_word_to_the_provider(sent_texts):
    with pytest.raises(jobs.UnsafeText):
        jobs.send_text(phone="+14155550100", text="Your infusion is at 9", status_callback=None)
    assert sent_texts == []


def test_only_the_send_machinery_calls_the_provider():
    # Every send path (reminders, outreach, replies, and any added later) must go through jobs.send_text.
    callers = []
    for folder in ("clinic", "patients", "protocols", "scheduling"):
        for path in (ROOT / folder).rglob("*.py"):
            if re.search(r"get_backend\(\)|\bsms\.(?:LocmemBackend|OutboxBackend|TwilioBackend)\(", path.read_text()):
                callers.append(path.relative_to(ROOT).as_posix())
    assert sorted(callers) == ["clinic/sms.py", "scheduling/messaging/jobs.py"]


def test_a_failed_check_is_never_retried(site, settings, session, sent_texts):
    # given
    settings.CLINIC_NAME = "Ketamine Clinic"
    # when the sweep runs again after the failure
    due_and_send(local(site, date(2026, 3, 4), 17))
    again = due_and_send(local(site, date(2026, 3, 4), 17, 5))
    # then
    assert again == []
    assert Reminder.objects.get(session=session, kind=ReminderKind.DAY_BEFORE).attempts == 1
