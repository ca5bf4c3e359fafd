"""Every text a patient can receive names the clinic, never the patient, the drug, the treatment or the diagnosis.

Texts end up on lock screens and shared phones. The reminders' templates are
checked when saved (tests/scheduling/messaging/test_reminders.py) and the calendar feed
carries initials and MRN only (tests/scheduling/api/test_board_and_feed.py); here
the texts actually sent are read: both reminders for an esketamine and an IV
session, the due-visit outreach, and the automatic replies to HELP, STOP and START.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clinic import sms
from scheduling.booking import services as booking
from scheduling.messaging import inbound, outreach, reminders
from scheduling.models import forbidden_words_in
from scheduling.tasks import send_reminder_task
from scheduling.worklist.sweep import refresh_worklist
from tests.factories import TreatmentCourseFactory, UserFactory, standard_protocol

# Every test here sends through the in-memory SMS backend, starting with nothing sent.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sent_texts")]

NEW_YORK = ZoneInfo("America/New_York")


def sent_to(patient) -> list[str]:
    return [text["body"] for text in sms.outbox if text["to"] == patient.phone]


def revealing(body: str, patient) -> list[str]:
    words = [patient.first_name, patient.last_name, patient.preferred_name, patient.mrn,
             patient.date_of_birth.isoformat(), f"{patient.date_of_birth:%m/%d/%Y}"]
    return [word for word in words if word.lower() in body.lower()] + forbidden_words_in(body)


def test_reminders_for_both_treatments_reveal_nothing(named_patient, site, chair, iv_chair, now, book):
    # given an esketamine visit on Thursday and an IV visit on Saturday
    user = UserFactory()
    for slug, seat, day in (("esketamine-trd", chair, date(2026, 3, 5)), ("ketamine-iv-series", iv_chair,
                                                                           date(2026, 3, 7))):
        course = TreatmentCourseFactory(patient=named_patient, protocol=standard_protocol(slug),
                                        start_date=date(2026, 3, 3))
        book(seat, site.at(day, time(13)), course=course, by=user)
    # when every reminder comes due and is sent
    for moment in (datetime(2026, 3, 4, 17, tzinfo=NEW_YORK), datetime(2026, 3, 5, 11, tzinfo=NEW_YORK),
                   datetime(2026, 3, 6, 17, tzinfo=NEW_YORK), datetime(2026, 3, 7, 11, tzinfo=NEW_YORK)):
        with time_machine.travel(moment, tick=False):
            for reminder_id in reminders.claim_due_reminders():
                send_reminder_task(reminder_id)
    # then
    bodies = sent_to(named_patient)  # the weekly cap of 3 texts holds back the fourth
    assert len(bodies) == 3 and any("Saturday March 7" in body for body in bodies)
    assert [revealing(body, named_patient) for body in bodies] == [[]] * 3
    assert all("Riverside Wellness Clinic" in body for body in bodies)


def test_the_due_visit_text_reveals_nothing(named_patient, site, clinician, now):
    # given session 1 given last Friday: session 2 is due and nothing is booked
    course = TreatmentCourseFactory(patient=named_patient, protocol=standard_protocol("esketamine-trd"),
                                    start_date=date(2026, 2, 20))
    booking.record_past_session(by=clinician, course=course, day=date(2026, 2, 27), location=site)
    refresh_worklist()
    # when
    for outreach_id in outreach.claim_due_outreach():
        outreach.send_claimed(outreach_id)
    # then
    [body] = sent_to(named_patient)
    assert revealing(body, named_patient) == []


@pytest.mark.parametrize("word", ["HELP", "STOP", "START"])
def test_the_automatic_replies_reveal_nothing(named_patient, now, word):
    inbound.handle_inbound(from_phone=named_patient.phone, to_phone="+15555550100", body=word,
                           provider_id=f"SM-{word}")
    [body] = sent_to(named_patient)
    assert revealing(body, named_patient) == []
