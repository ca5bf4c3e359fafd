"""Every text is recorded with the site it counts at in the clinic's numbers (``TextMessage.location``).

The texts figure reads the stored site instead of probing sessions per text, so every path that records a text must
fill it: a text about a session takes the session's site; a text about no session takes that of the patient's latest
session started at or before it, else of their next one; a reply later linked to a session (C, R, YES to an offer,
EARLIER) takes that session's site. "Now" is Monday 2 March 2026; ``booked`` is Tuesday 3 March at Midtown.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from scheduling.models import Direction, MessagePurpose, ReminderKind, TextMessage
from tests.factories import ChairFactory, LocationFactory, PatientFactory, SessionRowFactory, TextMessageFactory
from tests.scheduling.conftest import TUESDAY, local
from tests.scheduling.messaging.provider_webhooks import text_in
from tests.scheduling.messaging.sending import due_and_send, reminder

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sent_texts")]


@pytest.fixture
def uptown(site_hours):
    return LocationFactory(name="Uptown", time_zone="America/Chicago", hours=site_hours)


def test_a_reminder_sent_for_a_session_is_recorded_at_the_session_s_site(booked):
    # when: the day-before reminder goes out (Monday 17:00 in New York)
    sent = reminder(booked, ReminderKind.DAY_BEFORE)
    due_and_send(sent.send_at)
    # then
    text = TextMessage.objects.get(session=booked, purpose=MessagePurpose.REMINDER)
    assert text.location_id == booked.location_id


def test_a_reply_about_no_session_counts_at_the_patient_s_next_session_when_none_came_before(client, booked):
    # when
    text_in(client, booked.patient, "Thanks, see you")
    # then
    reply = TextMessage.objects.get(direction=Direction.INBOUND)
    assert reply.session_id is None
    assert reply.location_id == booked.location_id


def test_a_confirming_reply_and_the_answer_to_help_are_recorded_with_a_site(client, booked):
    # when
    text_in(client, booked.patient, "C")
    text_in(client, booked.patient, "HELP")
    # then: the C is linked to the visit it confirmed; the HELP answer (about no session) counts at the same site
    confirm = TextMessage.objects.get(direction=Direction.INBOUND, body="C")
    assert confirm.session_id == booked.pk and confirm.location_id == booked.location_id
    answers = TextMessage.objects.filter(direction=Direction.OUTBOUND).exclude(purpose=MessagePurpose.REMINDER)
    assert answers.exists()
    assert set(answers.values_list("location_id", flat=True)) == {booked.location_id}


def test_a_text_about_no_session_takes_the_latest_session_before_it_over_the_next(booked, uptown, now):
    # given: an earlier visit at Uptown, last week
    patient = booked.patient
    SessionRowFactory(chair=ChairFactory(location=uptown), start=now - timedelta(days=5), course=booked.course,
                      status="discharged")
    # when
    text = TextMessageFactory(patient=patient, at=now, purpose=MessagePurpose.DESK)
    # then: Uptown (started before it), not Midtown (tomorrow)
    assert text.location_id == uptown.pk


def test_a_text_to_a_patient_with_no_session_at_any_site_has_no_site():
    text = TextMessageFactory(patient=PatientFactory())
    assert text.location_id is None


def test_linking_a_text_to_a_session_moves_it_to_that_session_s_site(booked, uptown, now):
    # given: a reply recorded while the patient's nearest session was at Uptown
    SessionRowFactory(chair=ChairFactory(location=uptown), start=now - timedelta(days=5), course=booked.course,
                      status="discharged")
    reply = TextMessageFactory(patient=booked.patient, direction=Direction.INBOUND, purpose=MessagePurpose.REPLY,
                               body="R", at=now)
    assert reply.location_id == uptown.pk
    # when: the reply is linked to the Midtown visit (as inbound does for C, R and EARLIER)
    reply.session = booked
    reply.save(update_fields=["session"])
    # then
    reply.refresh_from_db()
    assert reply.location_id == booked.location_id


def test_a_text_recorded_with_its_site_keeps_it(booked, uptown):
    text = TextMessageFactory(patient=booked.patient, session=booked, location=uptown)
    assert text.location_id == uptown.pk


def test_texts_are_recorded_through_the_model_only_so_save_always_sets_the_site():
    # Rows written around ``TextMessage.save`` (bulk_create, raw INSERTs, an update of the session) would keep no
    # site, or a stale one. The benchmark's own INSERT fills the column itself.
    allowed = {Path("scheduling/benchmark/report_cases.py")}
    around_save = re.compile(r"TextMessage\.objects\.bulk_create|(INSERT INTO|UPDATE) scheduling_textmessage"
                             r"|TextMessage\.objects[^\n]*\.update\([^)]*session", re.IGNORECASE)
    root = Path(settings.BASE_DIR)
    found = [path.relative_to(root) for app in ("scheduling", "patients", "protocols", "clinic")
             for path in (root / app).rglob("*.py")
             if "migrations" not in path.parts and around_save.search(path.read_text())]
    assert set(found) <= allowed, found


def test_a_text_saved_again_for_another_reason_keeps_the_site_it_was_recorded_with(book, chair, now):
    # given: a reminder recorded for a Midtown visit
    session = book(chair, local(chair.location, TUESDAY, 10))
    text = TextMessageFactory(patient=session.patient, session=session)
    # when: the row is saved again for another reason (a delivery report)
    text.delivery_status = "delivered"
    text.save(update_fields=["delivery_status"])
    # then: the site it was recorded with stands
    text.refresh_from_db()
    assert text.location_id == chair.location_id
