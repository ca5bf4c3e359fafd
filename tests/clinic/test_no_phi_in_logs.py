"""No patient's name or phone number reaches the logs, whatever happens to them.

One run of the whole workflow with every logger at DEBUG (Django, its
request and security loggers, Celery's task tracer, the clinic's own, the
SMS provider's client): create the patient, start a course, book, the
reminder goes out, the patient replies, check-in and charting, a few failing
requests, the calendar feed. Then every captured record, its arguments and
any traceback are searched for the patient's name and phone number.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import time_machine
from django.conf import settings
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from clinic.roles import CLINICIAN, PRESCRIBER
from scheduling.booking.calendar_feed import feed_for
from scheduling.models import Reminder, ReminderKind, Session
from scheduling.tasks import refresh_worklist_task, send_reminder_task, sweep_reminders_task
from tests.factories import UserFactory
from tests.scheduling.stock.dose_lots import lot_for

pytestmark = pytest.mark.django_db

FIRST, LAST = "Marguerite", "Okonkwo"
PHONE = "+14155550123"
PHONE_FORMS = (PHONE, "4155550123", "415-555-0123", "(415) 555-0123", "415 555 0123")
MONDAY_9AM = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # New York
MONDAY_5PM = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
TUESDAY_10AM = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def every_log(caplog):
    """Every logger at DEBUG, and records from loggers that do not propagate captured too."""
    caplog.set_level(logging.DEBUG)
    names = [*logging.root.manager.loggerDict, "django", "django.request", "django.server", "django.security",
             "celery", "celery.app.trace", "celery.task", "celery.worker", "kombu", "twilio", "twilio.http_client",
             "axes", "scheduling", "patients", "protocols", "clinic"]
    silent = []
    for name in set(names):
        logger = logging.getLogger(name)
        caplog.set_level(logging.DEBUG, logger=name)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
            silent.append(logger)
    yield caplog
    for logger in silent:
        logger.removeHandler(caplog.handler)


def signed(path: str, params: dict) -> dict:
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(f"http://testserver{path}", params)
    return {"data": urlencode(params), "content_type": "application/x-www-form-urlencoded",
            "HTTP_X_TWILIO_SIGNATURE": signature}


def test_the_workflow_logs_no_patient_name_or_phone(every_log, site, chair, front_desk, sent_texts,
                                                    django_capture_on_commit_callbacks):
    # given
    # a prescriber too: the esketamine dose names a prescriber on site
    clinician = UserFactory(username="dr_logs", roles=[CLINICIAN, PRESCRIBER])
    site.staff.add(clinician)
    desk, nurse, anonymous = APIClient(), APIClient(), APIClient()
    desk.force_authenticate(front_desk)
    nurse.force_authenticate(clinician)
    with time_machine.travel(MONDAY_9AM, tick=False), django_capture_on_commit_callbacks(execute=True):
        # the patient is created, a course started, a visit booked
        created = desk.post("/api/patients/", {
            "first_name": FIRST, "last_name": LAST, "date_of_birth": "1979-04-02", "phone": "(415) 555-0123",
            "sms_consent": True, "sms_consent_method": "verbal", "diagnosis": "mdd",
            "rems_enrolled_on": "2026-01-05", "rems_patient_id": "REMS-LOG-1"}, format="json")
        assert created.status_code == 201, created.content
        patient = created.json()["id"]
        course = desk.post("/api/courses/", {"patient": patient, "protocol": "esketamine-trd",
                                             "start_date": "2026-03-02"}, format="json")
        assert course.status_code == 201, course.content
        booked = desk.post("/api/sessions/", {"course": course.json()["id"], "chair": chair.pk,
                                              "start": "2026-03-03T10:00", "clinician": clinician.pk}, format="json")
        assert booked.status_code == 201, booked.content
        session = booked.json()["id"]
        # failing requests: a duplicate, a bad phone, an unknown patient, a refused role, a bad page form
        assert desk.post("/api/patients/", {"first_name": FIRST, "last_name": LAST, "date_of_birth": "1979-04-02",
                                            "diagnosis": "mdd"}, format="json").status_code == 409
        assert desk.patch(f"/api/patients/{patient}/", {"phone": f"{LAST} 555"}, format="json").status_code == 400
        assert desk.get("/api/patients/999999/").status_code == 404
        assert desk.post(f"/api/sessions/{session}/vitals/", {"kind": "pre_dose"}, format="json").status_code == 403
        assert desk.get(f"/api/patients/?q={FIRST}").status_code == 200
        assert desk.get(f"/api/patients/?q={FIRST}&page=9").status_code == 404
        page = APIClient()
        page.force_login(front_desk)
        assert page.post("/patients/new/", {"first_name": FIRST, "last_name": LAST, "phone": PHONE},
                         format="multipart").status_code == 400
        refresh_worklist_task.apply()
    with time_machine.travel(MONDAY_5PM, tick=False), django_capture_on_commit_callbacks(execute=True):
        # the day-before reminder goes out through Celery's task machinery
        sweep_reminders_task.apply()
        reminder = Reminder.objects.get(session_id=session, kind=ReminderKind.DAY_BEFORE)
        assert send_reminder_task.apply(args=[reminder.pk]).get() == "sent"
        # the patient replies C, then HELP, and someone unknown texts in
        for sid, body, sender in (("SMlog1", "C", PHONE), ("SMlog2", "HELP", PHONE), ("SMlog3", "hi", "+14155550999")):
            params = {"From": sender, "To": "+15555550100", "Body": body, "MessageSid": sid}
            assert anonymous.post("/api/sms/inbound/", **signed("/api/sms/inbound/", params)).status_code == 200
        status = {"MessageSid": reminder.provider_id or "SMnone", "MessageStatus": "delivered"}
        anonymous.post("/api/sms/status/", **signed("/api/sms/status/", status))
        unsigned = urlencode({"From": PHONE, "To": "+15555550100", "Body": "STOP", "MessageSid": "SMlog4"})
        assert anonymous.post("/api/sms/inbound/", unsigned,
                              content_type="application/x-www-form-urlencoded").status_code == 403
    with time_machine.travel(TUESDAY_10AM, tick=False), django_capture_on_commit_callbacks(execute=True):
        # check-in and charting
        assert desk.post(f"/api/sessions/{session}/check-in/", {
            "fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True,
            "ride_home_arranged": True}, format="json").status_code == 200
        assert nurse.post(f"/api/sessions/{session}/vitals/", {
            "kind": "pre_dose", "systolic": 150, "diastolic": 95, "heart_rate": 80, "spo2": 97},
            format="json").status_code == 201
        assert nurse.post(f"/api/sessions/{session}/dose/", {"dose_mg": "56"},
                          format="json").status_code == 409  # high BP not acknowledged (before the lot is asked)
        nurse.post(f"/api/sessions/{session}/acknowledge-bp/", {"reason": "Anxious; rechecked"}, format="json")
        lot = lot_for(Session.objects.get(pk=session)).pk  # the dose draws from the site's stock
        assert nurse.post(f"/api/sessions/{session}/dose/", {"dose_mg": "56", "lot": lot},
                          format="json").status_code == 201
        assert nurse.post(f"/api/sessions/{session}/discharge/", {"resolution_attested": True, "driver": "Sister"},
                          format="json").status_code == 409  # observation not complete
        assert anonymous.get(f"/ical/clinician/{feed_for(clinician).token}.ics").status_code == 200
        page.force_login(front_desk)  # the Monday session has long been idle
        assert page.get(f"/patients/{patient}/").status_code == 200
    # the development server's request log (``make run``) sees the same search
    logging.getLogger("django.server").info('"%s" %s %s', f"GET /patients/?q={FIRST}+{LAST} HTTP/1.1", "200", "812")
    # then
    assert sent_texts, "the reminder went out"
    assert len(every_log.records) > 10, "the run logged something to search"
    leaks = []
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in every_log.records:
        text = " ".join([formatter.format(record), repr(record.args)])
        found = [word for word in (FIRST, LAST, *PHONE_FORMS) if word.lower() in text.lower()]
        if found:
            leaks.append(f"{record.name}: {found}: {text[:300]}")
    assert leaks == []
