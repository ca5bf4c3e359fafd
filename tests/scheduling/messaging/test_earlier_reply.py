"""The EARLIER reply through the signed webhook: the next booked visit is marked, the patient is answered once.

"Now" is Monday 2 March 2026, 09:00 in New York; ``booked`` is the patient's visit on Tuesday 3 March at 10:00.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings

from scheduling.messaging import earlier, inbound
from scheduling.models import (
    Direction,
    MessagePurpose,
    ReminderState,
    TextMessage,
    WorkItem,
    forbidden_words_in,
)
from tests.factories import PatientFactory
from tests.scheduling.conftest import TUESDAY, local
from tests.scheduling.messaging.provider_webhooks import text_in, texts_to

pytestmark = pytest.mark.usefixtures("sent_texts")


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["EARLIER", "earlier", " Earlier please", "earlier!"])
def test_earlier_in_any_case_marks_the_next_booked_visit_and_answers_once(client, booked, now, body):
    # when
    response = text_in(client, booked.patient, body)
    # then
    assert response.status_code == 200
    booked.refresh_from_db()
    assert booked.earlier_wanted_at == now
    [answer] = texts_to(booked.patient.phone)
    assert answer["body"] == f"We'll text you if an earlier time opens at {settings.CLINIC_NAME}."
    sent = TextMessage.objects.get(direction=Direction.OUTBOUND)
    assert (sent.purpose, sent.counts_toward_caps) == (MessagePurpose.CONFIRMATION, False)
    reply = TextMessage.objects.get(direction=Direction.INBOUND)
    assert reply.session_id == booked.pk
    assert not WorkItem.objects.exists()


@pytest.mark.django_db
def test_earlier_marks_only_the_next_of_two_booked_visits(client, book, booked, iv_chair, now):
    # given a second visit on Thursday for the same patient, in another course
    later = book(iv_chair, local(booked.location, TUESDAY + timedelta(days=2), 10), patient=booked.patient,
                 slug="ketamine-iv-series")
    # when
    text_in(client, booked.patient, "EARLIER")
    # then
    booked.refresh_from_db()
    later.refresh_from_db()
    assert (booked.earlier_wanted_at, later.earlier_wanted_at) == (now, None)


@pytest.mark.django_db
def test_a_second_earlier_keeps_the_first_request_time_and_its_place_in_line(client, booked, now, clock):
    # given
    text_in(client, booked.patient, "EARLIER")
    clock.shift(timedelta(minutes=30))
    # when
    text_in(client, booked.patient, "earlier")
    # then
    booked.refresh_from_db()
    assert booked.earlier_wanted_at == now
    assert len(texts_to(booked.patient.phone)) == 2


@pytest.mark.django_db
def test_earlier_with_nothing_booked_tells_the_patient_to_call(client):
    # given
    patient = PatientFactory()
    # when
    response = text_in(client, patient, "Earlier")
    # then
    assert response.status_code == 200
    [answer] = texts_to(patient.phone)
    assert answer["body"] == f"{settings.CLINIC_NAME}: you have no visit booked. To find a time, please call " \
                             f"{settings.CLINIC_PHONE}."
    assert TextMessage.objects.get(direction=Direction.OUTBOUND).counts_toward_caps is False


@pytest.mark.django_db
def test_earlier_does_not_confirm_the_visit_or_touch_its_reminders(client, booked):
    # when
    text_in(client, booked.patient, "EARLIER")
    # then
    booked.refresh_from_db()
    assert booked.confirmed_at is None
    assert set(booked.reminders.values_list("state", flat=True)) == {ReminderState.PENDING}


@pytest.mark.django_db
def test_earlier_from_an_opted_out_patient_is_recorded_but_not_answered(client, booked):
    # given
    text_in(client, booked.patient, "STOP")
    # when
    text_in(client, booked.patient, "EARLIER")
    # then only the opt-out confirmation was sent
    assert len(texts_to(booked.patient.phone)) == 1
    booked.refresh_from_db()
    assert booked.earlier_wanted_at is not None


@pytest.mark.django_db
def test_a_second_delivery_of_the_same_earlier_does_nothing_and_reports_the_same_outcome(client, booked):
    # given
    text_in(client, booked.patient, "EARLIER", sid="SMearlier1")
    # when
    result = inbound.handle_inbound(from_phone=booked.patient.phone, to_phone="", body="EARLIER",
                                    provider_id="SMearlier1")
    # then
    assert (result.outcome, result.duplicate, result.session_id) == (
        inbound.Outcome.EARLIER_WANTED, True, booked.pk)
    assert len(texts_to(booked.patient.phone)) == 1


@pytest.mark.parametrize("template", earlier.REPLY_TEXTS)
def test_no_earlier_answer_names_a_treatment_or_diagnosis(template):
    assert forbidden_words_in(inbound.reply_text(template)) == []
