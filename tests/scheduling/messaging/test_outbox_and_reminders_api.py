"""The outbox (API and page), simulated replies, the reminders API, and ``reminders_status``.

"Now" is Monday 2 March 2026, 09:00 in New York; the visit is on Tuesday 3 March at 10:00.
"""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from clinic import sms
from clinic.models import OutboxMessage
from scheduling.models import (
    Direction,
    MessagePurpose,
    Reminder,
    ReminderKind,
    ReminderState,
    SessionStatus,
    TextMessage,
    WorkItem,
    WorkKind,
)
from tests.factories import OutboxMessageFactory, TextMessageFactory, TreatmentCourseFactory
from tests.scheduling.conftest import local

TUESDAY = date(2026, 3, 3)


@pytest.fixture
def outbox_on(settings):
    settings.SMS_BACKEND = "outbox"


def _unknown(reminder: Reminder, now) -> Reminder:
    Reminder.objects.filter(pk=reminder.pk).update(
        state=ReminderState.UNKNOWN, provider_called_at=now - timedelta(minutes=20), body="Riverside: see you",
        reason="no answer from the provider; check the provider before sending again")
    reminder.refresh_from_db()
    return reminder


# --- the outbox API -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_outbox_is_not_there_unless_texts_go_to_it(desk_api, settings):
    # given
    settings.SMS_BACKEND = "locmem"
    # when
    listing = desk_api.get("/api/outbox/")
    reply = desk_api.post("/api/outbox/reply/", {"to": "+14155552671", "body": "STOP"}, format="json")
    # then
    assert (listing.status_code, listing.json()["code"]) == (404, "outbox_off")
    assert (reply.status_code, reply.json()["code"]) == (404, "outbox_off")


@pytest.mark.django_db
def test_the_outbox_needs_a_signed_in_member_of_staff(api_as, outbox_on):
    assert api_as(None).get("/api/outbox/").status_code == 401


@pytest.mark.django_db
def test_the_outbox_lists_texts_newest_first_with_the_patient_and_local_time(desk_api, outbox_on, booked, now):
    # given a reminder sent through the outbox, then a text to a number nobody has
    patient = booked.patient
    backend = sms.get_backend()
    first = backend.send(to=patient.phone, body="Riverside: reminder")
    TextMessageFactory(patient=patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER,
                       body="Riverside: reminder", provider_id=first.provider_id, session=booked)
    OutboxMessageFactory(to="+12125550123", body="Riverside: hello", provider_id="OBlater",
                         created_at=now + timedelta(minutes=1))
    # when
    response = desk_api.get("/api/outbox/")
    # then
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["provider_id"] for row in rows] == ["OBlater", first.provider_id]
    assert (rows[0]["patient"], rows[0]["patient_name"], rows[0]["created_local"]) == (None, None, None)
    assert (rows[1]["patient"], rows[1]["patient_name"]) == (patient.pk, patient.display_name)
    assert (rows[1]["time_zone"], rows[1]["created_local"]) == ("America/New_York", "2026-03-02T09:00:00-05:00")


@pytest.mark.django_db
def test_a_simulated_reply_goes_through_the_inbound_code(desk_api, outbox_on, booked):
    # when
    response = desk_api.post("/api/outbox/reply/", {"to": booked.patient.phone, "body": "C"}, format="json")
    # then
    assert response.status_code == 200
    assert response.json()["outcome"] == "confirmed"
    assert response.json()["session"] == booked.pk
    booked.refresh_from_db()
    assert booked.status == SessionStatus.CONFIRMED
    message = TextMessage.objects.get(direction=Direction.INBOUND)
    assert message.provider_id.startswith("SIM") and message.body == "C"


@pytest.mark.django_db
def test_a_simulated_help_is_answered_into_the_outbox(desk_api, outbox_on, booked):
    # when
    desk_api.post("/api/outbox/reply/", {"to": booked.patient.phone, "body": "HELP"}, format="json")
    # then
    answer = OutboxMessage.objects.get()
    assert answer.to == booked.patient.phone and "+15555550100" in answer.body


@pytest.mark.django_db
def test_a_simulated_reply_needs_a_phone_number(desk_api, outbox_on):
    # when
    response = desk_api.post("/api/outbox/reply/", {"to": "not a phone", "body": "C"}, format="json")
    # then
    assert response.status_code == 400
    assert "to" in response.json()["fields"]


# --- the outbox page ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_outbox_page_shows_texts_with_a_reply_box(client, front_desk, outbox_on, booked):
    # given
    sms.get_backend().send(to=booked.patient.phone, body="Riverside: see you tomorrow")
    client.force_login(front_desk)
    # when
    response = client.get("/outbox/")
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert "Riverside: see you tomorrow" in page
    assert booked.patient.display_name in page
    assert 'hx-post="/outbox/reply/"' in page
    # and it names the replies to an offered time and for an earlier one, which the demo has the desk try
    assert "YES to take an offered time" in page and "EARLIER to ask for an earlier time" in page


@pytest.mark.django_db
def test_the_outbox_list_shows_each_time_in_utc_and_at_the_patients_site(client, front_desk, outbox_on, booked):
    # given a text at 14:00 UTC to a patient seen in New York
    sms.get_backend().send(to=booked.patient.phone, body="Riverside: see you tomorrow")
    client.force_login(front_desk)
    # when htmx asks for the list alone
    response = client.get("/outbox/", HTTP_HX_REQUEST="true")
    # then
    page = response.content.decode()
    assert "Mon Mar 2, 9:00 AM" in page
    assert "2026-03-02 14:00 UTC" in page
    assert "<html" not in page


@pytest.mark.django_db
def test_the_outbox_page_sends_anonymous_visitors_to_sign_in(client, outbox_on):
    assert client.get("/outbox/")["Location"].startswith("/login/")


@pytest.mark.django_db
def test_a_reply_typed_on_the_outbox_page_shows_what_it_did(client, front_desk, outbox_on, booked):
    # given
    client.force_login(front_desk)
    # when
    response = client.post("/outbox/reply/", {"to": booked.patient.phone, "body": "STOP"}, HTTP_HX_REQUEST="true")
    # then the list comes back with the result and the opt-out confirmation in it
    assert response.status_code == 200
    page = response.content.decode()
    assert "Opted out" in page
    assert "no more texts" in page
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is not None


@pytest.mark.django_db
def test_a_plain_form_reply_redirects_so_a_reload_cannot_send_it_twice(client, front_desk, outbox_on, booked):
    # given
    client.force_login(front_desk)
    # when
    response = client.post("/outbox/reply/", {"to": booked.patient.phone, "body": "R"})
    # then
    assert (response.status_code, response["Location"]) == (302, "/outbox/")
    assert WorkItem.objects.filter(kind=WorkKind.RESCHEDULE_REQUEST).count() == 1


@pytest.mark.django_db
def test_the_outbox_page_cannot_fake_replies_when_texts_go_to_the_provider(client, front_desk, settings, booked):
    # given
    settings.SMS_BACKEND = "locmem"
    client.force_login(front_desk)
    # when
    response = client.post("/outbox/reply/", {"to": booked.patient.phone, "body": "STOP"})
    # then
    assert response.status_code == 404
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is None


# --- the reminders API --------------------------------------------------------------------------------


@pytest.fixture
def two_patients_reminders(booked, book, chair, now):
    """Two sessions' reminders: ``booked`` (this patient) and another patient's on Wednesday."""
    other = TreatmentCourseFactory(protocol=booked.course.protocol, start_date=TUESDAY)
    other_session = book(chair, local(chair.location, date(2026, 3, 4), 10), course=other)
    Reminder.objects.filter(session=other_session, kind=ReminderKind.SAME_DAY).update(state=ReminderState.SENT)
    return booked, other_session


@pytest.mark.django_db
@pytest.mark.parametrize("api", ["desk_api", "clinician_api", "manager_api"])
def test_every_role_lists_reminders(request, two_patients_reminders, api):
    # when
    response = request.getfixturevalue(api).get("/api/reminders/")
    # then
    assert response.status_code == 200
    assert response.json()["count"] == 4


@pytest.mark.django_db
def test_reminders_filter_by_state_session_patient_and_kind(desk_api, two_patients_reminders):
    # given
    mine, theirs = two_patients_reminders

    def ids(query: str) -> set[int]:
        response = desk_api.get(f"/api/reminders/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    # when / then
    assert ids("state=sent") == set(theirs.reminders.filter(kind="same_day").values_list("id", flat=True))
    assert ids(f"session={mine.pk}") == set(mine.reminders.values_list("id", flat=True))
    assert ids(f"patient={theirs.patient_id}") == set(theirs.reminders.values_list("id", flat=True))
    assert ids(f"kind=day_before&patient={mine.patient_id}") == {mine.reminders.get(kind="day_before").pk}
    assert ids("state=pending&state=sent") == set(Reminder.objects.values_list("id", flat=True))


@pytest.mark.django_db
def test_a_reminder_shows_its_times_in_the_sites_zone(desk_api, booked):
    # when
    row = desk_api.get(f"/api/reminders/?session={booked.pk}&kind=day_before").json()["results"][0]
    # then: the day before at 17:00 in New York
    assert row["send_at_local"] == "2026-03-02T17:00:00-05:00"
    assert (row["patient"], row["state"], row["time_zone"]) == (booked.patient_id, "pending", "America/New_York")


@pytest.mark.django_db
def test_an_unknown_state_filter_is_a_400(desk_api):
    response = desk_api.get("/api/reminders/?state=lost")
    assert response.status_code == 400
    assert "state" in response.json()["fields"]


@pytest.mark.django_db
def test_the_reminders_list_takes_the_same_queries_for_more_reminders(desk_api, two_patients_reminders, chair,
                                                                       django_assert_max_num_queries, book):
    # given ten more patients' sessions (twenty more reminders)
    for day in range(5, 15):
        start = local(chair.location, date(2026, 3, day), 12)
        if start.weekday() != 6:  # the site is closed on Sundays
            book(chair, start, slug=two_patients_reminders[0].course.protocol.slug)
    # when / then: the user's roles, count, page
    with django_assert_max_num_queries(4):
        assert desk_api.get("/api/reminders/").status_code == 200


# --- settling an unknown reminder ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reminder_the_console_shows_as_sent_becomes_sent_and_counts(desk_api, booked, now):
    # given
    reminder = _unknown(booked.reminders.get(kind="day_before"), now)
    # when
    response = desk_api.post(f"/api/reminders/{reminder.pk}/resolve-unknown/",
                             {"outcome": "sent", "note": "Console: delivered 09:41"}, format="json")
    # then
    assert response.status_code == 200, response.content
    reminder.refresh_from_db()
    assert (reminder.state, reminder.sent_at) == (ReminderState.SENT, now - timedelta(minutes=20))
    assert "Console: delivered 09:41" in reminder.reason
    text = TextMessage.objects.get(reminder=reminder)
    assert (text.counts_toward_caps, text.direction, text.body, text.at) == (
        True, Direction.OUTBOUND, "Riverside: see you", now - timedelta(minutes=20))


@pytest.mark.django_db
def test_a_reminder_the_console_shows_as_not_sent_fails_with_the_note(desk_api, booked, now):
    # given
    reminder = _unknown(booked.reminders.get(kind="day_before"), now)
    # when
    response = desk_api.post(f"/api/reminders/{reminder.pk}/resolve-unknown/",
                             {"outcome": "not_sent", "note": "Not in the console"}, format="json")
    # then
    assert response.status_code == 200
    assert response.json()["state"] == "failed"
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.FAILED and "Not in the console" in reminder.reason
    assert not TextMessage.objects.exists()


@pytest.mark.django_db
def test_only_an_unknown_reminder_can_be_settled(desk_api, booked):
    # given a pending reminder
    reminder = booked.reminders.get(kind="day_before")
    # when
    response = desk_api.post(f"/api/reminders/{reminder.pk}/resolve-unknown/",
                             {"outcome": "sent", "note": "x"}, format="json")
    # then
    assert (response.status_code, response.json()["code"]) == (409, "invalid_state")
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.PENDING


@pytest.mark.django_db
def test_a_clinician_cannot_settle_an_unknown_reminder(clinician_api, booked, now):
    # given
    reminder = _unknown(booked.reminders.get(kind="day_before"), now)
    # when
    response = clinician_api.post(f"/api/reminders/{reminder.pk}/resolve-unknown/",
                                  {"outcome": "sent", "note": "x"}, format="json")
    # then
    assert response.status_code == 403
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.UNKNOWN


@pytest.mark.django_db
def test_settling_needs_an_outcome_and_a_note(desk_api, booked, now):
    reminder = _unknown(booked.reminders.get(kind="day_before"), now)
    response = desk_api.post(f"/api/reminders/{reminder.pk}/resolve-unknown/", {"outcome": "maybe"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"outcome", "note"}


# --- reminders_status ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reminders_status_prints_counts_oldest_pending_stuck_and_unknown(booked, now, book):
    # given one reminder stuck in sending for 15 minutes, and one unknown elsewhere
    day_before, same_day = booked.reminders.get(kind="day_before"), booked.reminders.get(kind="same_day")
    Reminder.objects.filter(pk=day_before.pk).update(state=ReminderState.SENDING,
                                                     claimed_at=now - timedelta(minutes=15))
    other = book(booked.chair, local(booked.location, date(2026, 3, 4), 14),
                 course=TreatmentCourseFactory(protocol=booked.course.protocol, start_date=TUESDAY))
    _unknown(other.reminders.get(kind="day_before"), now)
    out = StringIO()
    # when
    call_command("reminders_status", stdout=out)
    # then
    lines = out.getvalue().splitlines()
    assert "  pending  2" in lines
    assert "  sending  1" in lines
    assert "  unknown  1" in lines
    assert "  sent     0" in lines
    assert f"Oldest pending: send at {same_day.send_at:%Y-%m-%d %H:%M} UTC" in lines
    assert f"Stuck sending (claimed over {settings.TEXT_CLAIM_LEASE_SECONDS} seconds ago): 1" in lines
    assert "Unknown (check the provider, then settle each): 1" in lines


@pytest.mark.django_db
def test_reminders_status_reap_returns_a_stuck_send_to_the_queue(booked, now):
    # given a worker that died before calling the provider
    reminder = booked.reminders.get(kind="day_before")
    Reminder.objects.filter(pk=reminder.pk).update(state=ReminderState.SENDING,
                                                   claimed_at=now - timedelta(minutes=15))
    out = StringIO()
    # when
    call_command("reminders_status", "--reap", stdout=out)
    # then
    assert "Reaped: 1 back to queued, 0 to unknown, 0 queued again." in out.getvalue()
    assert f"Stuck sending (claimed over {settings.TEXT_CLAIM_LEASE_SECONDS} seconds ago): 0" in out.getvalue()
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.QUEUED
