"""When the desk moves a visit the patient asked to move (R), the patient gets one text with the new time.

Moved from the board, the patient page or the API, or cancelled and booked
anew: each answers the desk's "asked for a new time" item.

It answers the patient's own message: recorded, not counted against the caps,
sent at most once however often its task is delivered, and never for a visit
that no longer stands or to a patient who opted out.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from clinic import queueing
from clinic.texts import forbidden_words_in
from scheduling import tasks
from scheduling.booking import services as booking
from scheduling.messaging import inbound
from scheduling.models import MessagePurpose, TextMessage, WorkItem, WorkKind
from scheduling.worklist.sweep import refresh_worklist
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

CLINIC_NUMBER = "+15550000000"
THURSDAY = date(2026, 3, 5)


@pytest.fixture
def asked_to_move(booked, sent_texts):
    """The patient of ``booked`` replied R: the desk has an "asked for a new time" item for the visit."""
    inbound.handle_inbound(from_phone=booked.patient.phone, to_phone=CLINIC_NUMBER, body="R", provider_id="SMr1")
    sent_texts.clear()
    return WorkItem.objects.get(kind=WorkKind.RESCHEDULE_REQUEST, closed_at__isnull=True)


def move(session, front_desk, *, published):
    """The desk moves ``session`` to Thursday at 11:00; the tasks its commit publishes are collected."""
    start = local(session.location, THURSDAY, 11)
    with published() as callbacks:
        booking.reschedule_session(by=front_desk, session=session, start=start)
    return callbacks


def test_moving_a_visit_after_r_texts_the_new_time_once(booked, asked_to_move, front_desk, sent_texts,
                                                        django_capture_on_commit_callbacks, monkeypatch):
    # given the publishing of the text task, recorded
    published = []
    monkeypatch.setattr(queueing, "publish", lambda task, calls: published.extend((task.name, *c) for c in calls))
    # when the desk moves the visit and the commit's callbacks run
    move(booked, front_desk, published=lambda: django_capture_on_commit_callbacks(execute=True))
    # then the desk's item is answered by the move, and one text task is published for it
    asked_to_move.refresh_from_db()
    assert asked_to_move.closed_at is not None and "new time is texted" in asked_to_move.resolution
    assert ("scheduling.send_new_time", booked.pk, asked_to_move.pk) in published
    # when the worker runs the task, and the task is delivered a second time
    first = tasks.send_new_time_task(booked.pk, asked_to_move.pk)
    second = tasks.send_new_time_task(booked.pk, asked_to_move.pk)
    # then one text went out, with the new day and time and no treatment named
    assert (first, second) == ("sent", "already_sent")
    [text] = sent_texts
    assert text["to"] == booked.patient.phone
    assert "Thursday March 5 at 11:00 AM" in text["body"]
    assert forbidden_words_in(text["body"]) == []
    message = TextMessage.objects.get(purpose=MessagePurpose.NEW_TIME)
    assert (message.counts_toward_caps, message.session_id) == (False, booked.pk)


def test_moving_a_visit_nobody_asked_to_move_texts_nothing(booked, front_desk, sent_texts,
                                                           django_capture_on_commit_callbacks, monkeypatch):
    published = []
    monkeypatch.setattr(queueing, "publish", lambda task, calls: published.extend((task.name, *c) for c in calls))
    move(booked, front_desk, published=lambda: django_capture_on_commit_callbacks(execute=True))
    assert [call for call in published if call[0] == "scheduling.send_new_time"] == []
    assert sent_texts == []


def test_no_new_time_text_to_a_patient_who_opted_out_since(booked, asked_to_move, front_desk, sent_texts,
                                                           django_capture_on_commit_callbacks):
    # given the visit moved, then the patient opted out before the text went
    move(booked, front_desk, published=django_capture_on_commit_callbacks)
    type(booked.patient).objects.filter(pk=booked.patient_id).update(sms_opted_out_at=timezone.now())
    # when
    outcome = tasks.send_new_time_task(booked.pk, asked_to_move.pk)
    # then
    assert outcome == "not_allowed"
    assert sent_texts == []


def test_no_new_time_text_for_a_visit_cancelled_since(booked, asked_to_move, front_desk, sent_texts,
                                                      django_capture_on_commit_callbacks):
    move(booked, front_desk, published=django_capture_on_commit_callbacks)
    booked.refresh_from_db()
    booking.cancel_session(by=front_desk, session=booked, reason="Patient unwell")
    assert tasks.send_new_time_task(booked.pk, asked_to_move.pk) == "stale"
    assert sent_texts == []


# --- every way a desk answers an R closes the item: the API's move, and cancelling then booking anew -----


def test_a_move_through_the_api_answers_the_request_too(booked, asked_to_move, desk_api,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        answer = desk_api.post(f"/api/sessions/{booked.pk}/reschedule/", {"start": "2026-03-05T11:00"},
                               format="json")
    assert answer.status_code == 200, answer.content
    asked_to_move.refresh_from_db()
    assert asked_to_move.closed_at is not None
    assert asked_to_move.resolution.startswith("Moved to Thu 5 Mar at 11:00 (Midtown)")


def test_cancelling_and_booking_anew_answers_the_request_and_texts_the_new_time_once(
        booked, asked_to_move, front_desk, chair, sent_texts, book):
    # given the desk cancels the visit: the patient still waits for a new time
    booking.cancel_session(by=front_desk, session=booked, reason="Patient asked for another day")
    refresh_worklist(course_ids=[booked.course_id])
    asked_to_move.refresh_from_db()
    assert asked_to_move.closed_at is None
    # when the desk books the course again, and the sweep that follows the booking runs (twice, as a redelivery)
    again = book(chair, local(chair.location, THURSDAY, 11), course=booked.course, by=front_desk)
    first = refresh_worklist(course_ids=[booked.course_id])
    second = refresh_worklist(course_ids=[booked.course_id])
    # then the request is answered by the new booking and one text tells the new time
    assert (first["answered"], second["answered"]) == (1, 0)
    asked_to_move.refresh_from_db()
    assert asked_to_move.closed_by == front_desk
    assert asked_to_move.resolution == ("Rebooked to Thu 5 Mar at 11:00 (Midtown); the new time is texted to the "
                                        "patient.")
    [text] = sent_texts
    assert "Thursday March 5 at 11:00 AM" in text["body"]
    assert TextMessage.objects.get(purpose=MessagePurpose.NEW_TIME).session_id == again.pk


def test_a_request_whose_visit_still_stands_is_not_answered_by_another_booking(booked, asked_to_move, chair, book,
                                                                              front_desk, sent_texts):
    # given another patient's booking, and a later visit of the same course (the next one, not a new time)
    book(chair, local(chair.location, THURSDAY, 11), by=front_desk)
    assert refresh_worklist()["answered"] == 0
    asked_to_move.refresh_from_db()
    assert asked_to_move.closed_at is None
    assert sent_texts == []


def test_the_desk_is_told_to_phone_a_patient_who_gets_no_texts(booked, asked_to_move, front_desk,
                                                               django_capture_on_commit_callbacks):
    type(booked.patient).objects.filter(pk=booked.patient_id).update(sms_opted_out_at=timezone.now())
    move(booked, front_desk, published=django_capture_on_commit_callbacks)
    asked_to_move.refresh_from_db()
    assert asked_to_move.resolution.endswith("the patient gets no texts, so tell them by phone.")


def test_an_r_from_a_patient_with_no_visit_is_answered_by_the_next_booking(esk_course, chair, front_desk, book,
                                                                           sent_texts, now):
    # given: the patient replies R with nothing booked: the item names no visit
    inbound.handle_inbound(from_phone=esk_course.patient.phone, to_phone=CLINIC_NUMBER, body="R",
                           provider_id="SMr-none")
    item = WorkItem.objects.get(kind=WorkKind.RESCHEDULE_REQUEST, closed_at__isnull=True)
    assert item.session_id is None
    # when the desk books the course, and the sweep that follows runs
    book(chair, local(chair.location, THURSDAY, 11), course=esk_course, by=front_desk)
    assert refresh_worklist(course_ids=[esk_course.pk])["answered"] == 1
    # then
    item.refresh_from_db()
    assert item.resolution.startswith("Rebooked to Thu 5 Mar at 11:00 (Midtown)")
    assert ["Thursday March 5 at 11:00 AM" in text["body"] for text in sent_texts] == [True]
