"""The role matrix in docs/PERMISSIONS.md, request by request: every API endpoint and page, as everyone.

One table (``TABLE``) lists every URL pattern the resolver knows, each with
its methods, who may use it, and the line of the matrix in docs/PERMISSIONS.md
("The role matrix") it belongs to. ``test_each_caller_gets_what_the_matrix_says``
sends each request as an anonymous visitor, a user without a role, front
desk, a clinician and a manager, and checks the answer:

- allowed: a GET answers 200 (or the row's redirect); any other method is
  past the door (no 401, 403, 404, 405 or 500, no redirect to the login page:
  a 400 or 409 from the rules is fine, the role was let through);
- a row open to everyone (``PUBLIC``: signing in, the provider's webhooks,
  the calendar feed) answers ``ok`` whoever calls;
- refused: 403 for a signed-in user; 401 from the API and a redirect to the
  login page from a page for an anonymous visitor.

Two more tests keep the table honest: every URL pattern (and every API method)
has a row, so a new endpoint cannot arrive without one, and the table's roles
for each line of the matrix in docs/PERMISSIONS.md are that line's yes/no columns.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from clinic.models import OutboxMessage
from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from patients.models import Instrument
from protocols.models import Protocol
from scheduling.booking import services as booking
from scheduling.booking.calendar_feed import feed_for
from scheduling.charting import outcomes
from scheduling.models import Chair, Location, OpeningHours, Reminder, ReminderState, RemsForm, WorkItem, WorkKind
from scheduling.models.messaging import DeskText
from tests.clinic.permission_rows import (
    authorisation_pages,
    authorisations,
    fhir,
    fhir_appointments,
    offers,
    reports,
    reports_pages,
    stock,
    stock_pages,
)
from tests.clinic.permission_rows.table import (
    ALL,
    CALLERS,
    CLINICIAN_AND_MANAGER,
    CLINICIAN_ONLY,
    DESK_AND_CLINICIAN,
    DESK_AND_MANAGER,
    MANAGER_ONLY,
    PUBLIC,
    Row,
)
from tests.factories import PatientFactory, TreatmentCourseFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
TODAY = date(2026, 3, 2)
PASSWORD = "correct-horse-battery"

def _signed(path: str, params: dict):
    def body(world, caller):
        return {"__signed__": RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
            f"http://testserver{path}", params), **params}
    return body


def _token_body(world, caller):
    username = world["usernames"].get(caller, "no-such-user")
    return {"username": username, "password": PASSWORD}


NEW_PATIENT = {"first_name": "Kim", "last_name": "Ode", "date_of_birth": "1985-01-01", "diagnosis": "mdd",
               "confirm_new": True}
FULL_PATIENT = {"first_name": "Alex", "last_name": "Rivera", "date_of_birth": "1980-05-17", "sex": "unknown",
                "diagnosis": "mdd", "mrn": ""}
CHECK_IN = {"fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True, "ride_home_arranged": True}
VITALS = {"kind": "pre_dose", "systolic": 120, "diastolic": 80, "heart_rate": 70, "spo2": 98}
PHQ9_ITEMS = [1, 1, 1, 1, 1, 1, 1, 1, 0]
MADRS_ITEMS = [2] * 10
FORM_CHECK_IN = {"fasted_food_2h": "on", "fasted_drink_30m": "on", "nasal_medicines_ok": "on",
                 "ride_home_arranged": "on"}
FORM_VITALS = {"kind": "pre_dose", "systolic": "120", "diastolic": "80", "heart_rate": "70", "spo2": "98"}
INBOUND = {"From": "+14155550999", "To": "+15555550100", "Body": "HELP", "MessageSid": "SMmatrix0001"}
STATUS = {"MessageSid": "SMnobody", "MessageStatus": "delivered"}

MANAGE = ("the manager's home and pages (`/manage/`): sites, chairs, hours, closures, staff, protocols, "
          "reminder policies")
P = {"pk": "patient"}
C = {"pk": "course"}
S = {"pk": "session"}
PAGE_S = {"session_id": "session"}

TABLE: list[Row] = [
    # --- signing in, the schema -------------------------------------------------------------------------
    Row("login/", "GET", PUBLIC, None, ok=frozenset({200, 302})),  # a signed-in user goes on to the home page
    Row("login/code/", "GET", PUBLIC, None, ok=frozenset({302})),  # no password step yet: back to the login
    Row("logout/", "POST", PUBLIC, None, ok=frozenset({302})),
    Row("api/auth/token/", "POST", ALL, "sign in (web, `POST /api/auth/token/`)", body=_token_body,
        expect={"anonymous": {400}, "no_role": {403}}),
    Row("account/two-factor/", "GET", ALL, "two-factor sign-in: set up or turn off one's own authenticator"),
    Row("api/schema/", "GET", ALL, "API schema and docs"),
    Row("api/docs/", "GET", ALL, "API schema and docs"),
    Row("api/me/", "GET", ALL, None),
    Row("api/me/calendar-token/", "POST", CLINICIAN_ONLY, "own calendar feed address: rotate"),
    Row("", "GET", ALL, None, ok=frozenset({302})),  # home: on to the role's landing page
    # --- patients ------------------------------------------------------------------------------------------
    Row("api/patients/", "GET", ALL, "patients: list, search, read"),
    Row("api/patients/", "POST", ALL, "patients: create, update", body=NEW_PATIENT),
    Row("api/patients/<pk>/", "GET", ALL, "patients: list, search, read", args=P),
    Row("api/patients/<pk>/", "PUT", ALL, "patients: create, update", args=P, body=FULL_PATIENT),
    Row("api/patients/<pk>/", "PATCH", ALL, "patients: create, update", args=P, body={"notes": "Prefers mornings"}),
    Row("api/patients/<pk>/", "DELETE", DESK_AND_MANAGER, "patients: archive (`DELETE`)", args=P),
    Row("api/patients/<pk>/history/", "GET", MANAGER_ONLY, "patients: history of changes and reads", args=P),
    Row("api/audit/access/", "GET", MANAGER_ONLY, "access log report (`GET /api/audit/access/`)",
        query="patient={patient}"),
    Row("patients/access-log/", "GET", MANAGER_ONLY,
        "access log page (`/patients/access-log/`), unusual access flagged", query="patient={patient}"),
    Row("patients/", "GET", ALL, "patients: list, search, read"),
    Row("patients/new/", "GET", ALL, "patients: create, update"),
    Row("patients/new/", "POST", ALL, "patients: create, update",
        body={**NEW_PATIENT, "sex": "unknown", "confirm_new": "1"}),
    Row("patients/<patient_id>/", "GET", ALL, "patients: list, search, read", args={"patient_id": "patient"}),
    Row("patients/<patient_id>/edit/", "GET", ALL, "patients: create, update", args={"patient_id": "patient"}),
    Row("patients/<patient_id>/edit/", "POST", ALL, "patients: create, update", args={"patient_id": "patient"},
        body=FULL_PATIENT),
    # --- protocols and courses -------------------------------------------------------------------------------
    Row("api/protocols/", "GET", ALL, "protocols: read"),
    Row("api/protocols/<id_or_slug>/", "GET", ALL, "protocols: read", args={"id_or_slug": "=esketamine-trd"}),
    Row("admin/", "GET", MANAGER_ONLY, "protocols: configure (the Protocols pages; the admin for superusers)",
        follow=True),
    Row("api/courses/", "GET", ALL, "courses: read, start", query="patient={patient}"),
    Row("api/courses/", "POST", ALL, "courses: read, start",
        body=lambda w, c: {"patient": w["patient2"], "protocol": "ketamine-iv-series", "start_date": "2026-03-02"}),
    Row("api/courses/", "POST", CLINICIAN_ONLY, "courses: eligibility override with a reason",
        body=lambda w, c: {"patient": w["patient2"], "protocol": "ketamine-iv-series", "start_date": "2026-03-02",
                           "override_reason": "Reviewed the findings with the patient"}),
    Row("api/courses/<pk>/", "GET", ALL, "courses: read, start", args=C),
    Row("api/courses/<pk>/plan/", "GET", ALL, "courses: read, start", args=C),
    Row("api/courses/<pk>/pause/", "POST", CLINICIAN_AND_MANAGER,
        "courses: pause, resume, discontinue", args=C),
    Row("api/courses/<pk>/resume/", "POST", CLINICIAN_AND_MANAGER,
        "courses: pause, resume, discontinue", args=C),
    Row("api/courses/<pk>/discontinue/", "POST", CLINICIAN_AND_MANAGER,
        "courses: pause, resume, discontinue", args=C, body={"reason": "Moved away"}),
    Row("api/courses/<pk>/maintenance-frequency/", "POST", CLINICIAN_ONLY,
        "courses: switch maintenance frequency (weekly or back), with a reason", args=C,
        body={"frequency": "weekly", "reason": "Relapse risk"}),
    Row("api/courses/<pk>/restart-phase/", "POST", CLINICIAN_ONLY, "courses: restart a phase after a lapse",
        args=C, body={"reason": "Reviewed after the lapse"}),
    Row("patients/<patient_id>/start-course/", "GET", ALL, "courses: read, start", args={"patient_id": "patient2"}),
    Row("patients/<patient_id>/start-course/", "POST", ALL, "courses: read, start", args={"patient_id": "patient2"},
        body={"protocol": "ketamine-iv-series", "start_date": "2026-03-02"}),
    # The course's page: its actions let in the roles its API action does.
    Row("courses/<course_id>/", "GET", ALL, "the course's page: read (`/courses/{id}/`)", args={"course_id": "course"}),
    *[Row(f"courses/<course_id>/{action}/", "POST", CLINICIAN_AND_MANAGER,
          "the course's page: pause, resume, discontinue, with a reason", args={"course_id": "course"},
          body={"reason": "Moved away"}) for action in ("pause", "resume", "discontinue")],
    Row("courses/<course_id>/maintenance-frequency/", "POST", CLINICIAN_ONLY,
        "the course's page: switch maintenance frequency, restart a phase after a lapse",
        args={"course_id": "course"}, body={"frequency": "weekly", "reason": "Relapse risk"}),
    Row("courses/<course_id>/restart-phase/", "POST", CLINICIAN_ONLY,
        "the course's page: switch maintenance frequency, restart a phase after a lapse",
        args={"course_id": "course"}, body={"reason": "Reviewed after the lapse"}),
    # --- the manager's pages --------------------------------------------------------------------------------
    Row("manage/", "GET", MANAGER_ONLY, MANAGE),
    Row("manage/staff/", "GET", MANAGER_ONLY, MANAGE),
    Row("manage/staff/new/", "GET", MANAGER_ONLY, MANAGE),
    Row("manage/staff/new/", "POST", MANAGER_ONLY, MANAGE,
        body={"username": "matrix.new", "first_name": "Max", "last_name": "Trix",
              "password1": "quiet-harbour-lantern-42", "password2": "quiet-harbour-lantern-42",
              "roles": ["front_desk"]}),
    Row("manage/staff/<user_id>/", "GET", MANAGER_ONLY, MANAGE, args={"user_id": "clinician"}),
    Row("manage/staff/<user_id>/", "POST", MANAGER_ONLY, MANAGE, args={"user_id": "clinician"},
        body={"first_name": "Cal", "last_name": "Nurse", "roles": ["clinician"]}),
    *[Row(f"manage/staff/<user_id>/{action}/", "POST", MANAGER_ONLY, MANAGE, args={"user_id": "clinician"})
      for action in ("deactivate", "reactivate", "remove-authenticator", "clear-lockout")],
    Row("manage/staff/<user_id>/password/", "POST", MANAGER_ONLY, MANAGE, args={"user_id": "clinician"},
        body={"new_password1": "quiet-harbour-lantern-42", "new_password2": "quiet-harbour-lantern-42"}),
    Row("manage/protocols/", "GET", MANAGER_ONLY, MANAGE),
    Row("manage/protocols/<protocol_id>/", "GET", MANAGER_ONLY, MANAGE, args={"protocol_id": "protocol"}),
    Row("manage/protocols/<protocol_id>/name/", "POST", MANAGER_ONLY, MANAGE, args={"protocol_id": "protocol"},
        body={"name": "Esketamine TRD", "active": "on"}),
    Row("manage/protocols/<protocol_id>/copy/", "POST", MANAGER_ONLY, MANAGE, args={"protocol_id": "protocol"}),
    Row("manage/protocols/<protocol_id>/settings/", "POST", MANAGER_ONLY, MANAGE, args={"protocol_id": "protocol"},
        body={"chair_minutes": "150"}),
    Row("manage/protocols/<protocol_id>/phases/", "POST", MANAGER_ONLY, MANAGE, args={"protocol_id": "protocol"},
        body={"phases-TOTAL_FORMS": "0", "phases-INITIAL_FORMS": "0"}),
    Row("manage/texts/", "GET", MANAGER_ONLY, MANAGE),
    Row("manage/texts/<location_id>/", "GET", MANAGER_ONLY, MANAGE, args={"location_id": "location"}),
    Row("manage/texts/<location_id>/", "POST", MANAGER_ONLY, MANAGE, args={"location_id": "location"},
        body={"day_before_enabled": "on", "day_before_at": "17:00", "same_day_enabled": "on",
              "same_day_hours_before": "2", "quiet_from": "21:00", "quiet_until": "08:00", "daily_cap": "1",
              "weekly_cap": "2", "min_lead_minutes": "60",
              "day_before_template": "{clinic}: see you {day} at {time}. Reply C to confirm, STOP to opt out. {phone}",
              "same_day_template": "{clinic}: today at {time}. {phone}",
              "outreach_template": "It's time to book your next visit at {clinic}: call {phone}."}),
    Row("manage/texts/<location_id>/preview/", "POST", MANAGER_ONLY, MANAGE, args={"location_id": "location"},
        body={"kind": "outreach", "outreach_template": "Time to book at {clinic}: {phone}"}),
    Row("manage/texts/<location_id>/restore/", "POST", MANAGER_ONLY, MANAGE, args={"location_id": "location"}),
    Row("manage/sites/", "GET", MANAGER_ONLY, MANAGE),
    Row("manage/sites/new/", "GET", MANAGER_ONLY, MANAGE),
    Row("manage/sites/new/", "POST", MANAGER_ONLY, MANAGE,
        body={"name": "Uptown", "time_zone": "America/New_York", "turnover_minutes": "15",
              "max_in_treatment_per_clinician": "4", "active": "on"}),
    Row("manage/sites/<site_id>/", "GET", MANAGER_ONLY, MANAGE, args={"site_id": "location"}),
    Row("manage/sites/<site_id>/settings/", "POST", MANAGER_ONLY, MANAGE, args={"site_id": "location"},
        body={"name": "Midtown", "time_zone": "America/New_York", "turnover_minutes": "20",
              "max_in_treatment_per_clinician": "4", "rems_certified": "on", "active": "on"}),
    Row("manage/sites/<site_id>/chairs/", "POST", MANAGER_ONLY, MANAGE, args={"site_id": "location"},
        body={"name": "Chair 9", "serves_esketamine": "on"}),
    Row("manage/sites/<site_id>/chairs/<chair_id>/", "POST", MANAGER_ONLY, MANAGE,
        args={"site_id": "location", "chair_id": "chair"}, body={"name": "Window chair", "serves_esketamine": "on"}),
    Row("manage/sites/<site_id>/chairs/<chair_id>/service/", "POST", MANAGER_ONLY, MANAGE,
        args={"site_id": "location", "chair_id": "chair"}, body={"active": "1"}),
    Row("manage/sites/<site_id>/hours/", "POST", MANAGER_ONLY, MANAGE, args={"site_id": "location"},
        body={"opens-0": "08:00", "closes-0": "18:00", **{f"closed-{day}": "on" for day in range(1, 7)}}),
    Row("manage/sites/<site_id>/closures/", "POST", MANAGER_ONLY, MANAGE, args={"site_id": "location"},
        body={"date": "2026-03-20", "reason": "Staff training"}),
    # No closure in the world: the manager is let through to a 404, everyone else refused at the door.
    Row("manage/sites/<site_id>/closures/<closure_id>/remove/", "POST", MANAGER_ONLY, MANAGE,
        args={"site_id": "location", "closure_id": "=999999"}, expect={MANAGER: frozenset({404})}),
    # --- locations and chairs --------------------------------------------------------------------------------
    Row("api/locations/", "GET", ALL, "locations and chairs: read"),
    Row("api/locations/", "POST", MANAGER_ONLY, "locations and chairs: configure",
        body={"name": "Uptown", "time_zone": "America/New_York"}),
    Row("api/locations/<pk>/", "GET", ALL, "locations and chairs: read", args={"pk": "location"}),
    Row("api/locations/<pk>/", "PUT", MANAGER_ONLY, "locations and chairs: configure", args={"pk": "location"},
        body={"name": "Midtown", "time_zone": "America/New_York", "rems_certified": True}),
    Row("api/locations/<pk>/", "PATCH", MANAGER_ONLY, "locations and chairs: configure", args={"pk": "location"},
        body={"phone": "+15555550123"}),
    Row("api/locations/<pk>/chairs/", "GET", ALL, "locations and chairs: read", args={"pk": "location"}),
    Row("api/locations/<pk>/chairs/", "POST", MANAGER_ONLY, "locations and chairs: configure",
        args={"pk": "location"}, body={"name": "Chair 9", "serves_esketamine": True}),
    Row("api/chairs/<pk>/", "GET", ALL, "locations and chairs: read", args={"pk": "chair"}),
    Row("api/chairs/<pk>/", "PUT", MANAGER_ONLY, "locations and chairs: configure", args={"pk": "chair"},
        body={"name": "Chair 1", "active": True, "serves_esketamine": True, "has_infusion_pump": False}),
    Row("api/chairs/<pk>/", "PATCH", MANAGER_ONLY, "locations and chairs: configure", args={"pk": "chair"},
        body={"name": "Window chair"}),
    # --- sessions: lists, board, availability ----------------------------------------------------------------
    Row("api/sessions/", "GET", ALL, "sessions: list, board, availability", query="patient={patient}"),
    Row("api/sessions/<pk>/", "GET", ALL, "sessions: list, board, availability", args=S),
    Row("api/locations/<pk>/board/", "GET", ALL, "sessions: list, board, availability", args={"pk": "location"}),
    Row("api/availability/", "GET", ALL, "sessions: list, board, availability", query="course={course2}"),
    Row("board/", "GET", ALL, "sessions: list, board, availability", ok=frozenset({302})),
    Row("board/<location_id>/", "GET", ALL, "sessions: list, board, availability",
        args={"location_id": "location"}, ok=frozenset({302})),
    Row("board/<location_id>/<day>/", "GET", ALL, "sessions: list, board, availability",
        args={"location_id": "location", "day": "=2026-03-02"}),
    Row("board/<location_id>/<day>/body/", "GET", ALL, "sessions: list, board, availability",
        args={"location_id": "location", "day": "=2026-03-02"}),
    Row("sessions/<session_id>/", "GET", ALL, "sessions: list, board, availability", args=PAGE_S),
    # --- sessions: booking and moving ------------------------------------------------------------------------
    Row("api/sessions/", "POST", ALL, "sessions: book, move, cancel, no-show, series",
        body=lambda w, c: {"course": w["course2"], "chair": w["chair"], "start": "2026-03-03T10:00"}),
    Row("api/sessions/", "POST", CLINICIAN_ONLY, "sessions: book outside the due window (with a reason)",
        body=lambda w, c: {"course": w["course2"], "chair": w["chair"], "start": "2026-03-14T10:00",
                           "override_reason": "The patient travels until then"}),
    Row("api/sessions/<pk>/reschedule/", "POST", ALL,
        "sessions: book, move, cancel, no-show, series", args=S, body={"start": "2026-03-03T11:00"}),
    Row("api/sessions/<pk>/cancel/", "POST", ALL, "sessions: book, move, cancel, no-show, series",
        args=S, body={"reason": "Unwell"}),
    Row("api/sessions/<pk>/no-show/", "POST", ALL,
        "sessions: book, move, cancel, no-show, series", args=S),
    Row("api/sessions/series/", "POST", ALL, "sessions: book, move, cancel, no-show, series",
        body=lambda w, c: {"course": w["course2"], "chair": w["chair"], "first_start": "2026-03-03T10:00",
                           "weekdays": [1, 4], "dry_run": True}),
    Row("api/sessions/history/", "POST", CLINICIAN_AND_MANAGER,
        "sessions: record a course's earlier sessions (history)",
        body=lambda w, c: {"course": w["course2"], "date": "2026-02-20", "location": w["location"]}),
    Row("sessions/<session_id>/reschedule/", "POST", ALL,
        "sessions: book, move, cancel, no-show, series", args=PAGE_S,
        body={"start": "2026-03-03T11:00"}),
    Row("sessions/<session_id>/cancel/", "POST", ALL,
        "sessions: book, move, cancel, no-show, series", args=PAGE_S, body={"reason": "Unwell"}),
    Row("sessions/<session_id>/no-show/", "POST", ALL,
        "sessions: book, move, cancel, no-show, series", args=PAGE_S),
    Row("courses/<course_id>/book/", "GET", ALL, "sessions: book, move, cancel, no-show, series",
        args={"course_id": "course2"}),
    Row("courses/<course_id>/book/", "POST", ALL, "sessions: book, move, cancel, no-show, series",
        args={"course_id": "course2"}, body=lambda w, c: {"chair": w["chair"], "start": "2026-03-03T10:00"}),
    Row("courses/<course_id>/book-phase/", "GET", ALL,
        "sessions: book, move, cancel, no-show, series", args={"course_id": "course2"}),
    Row("courses/<course_id>/book-phase/", "POST", ALL,
        "sessions: book, move, cancel, no-show, series", args={"course_id": "course2"},
        body=lambda w, c: {"chair": w["chair"], "first_start": "2026-03-03T10:00", "weekdays": ["1", "4"]}),
    Row("courses/<course_id>/book-phase/preview/", "POST", ALL,
        "sessions: book, move, cancel, no-show, series", args={"course_id": "course2"},
        body=lambda w, c: {"chair": w["chair"], "first_start": "2026-03-03T10:00", "weekdays": ["1", "4"]}),
    Row("sessions/<session_id>/undo-cancel/", "POST", ALL, "sessions: book, move, cancel, no-show, series",
        args=PAGE_S),
    Row("slot-grid/", "GET", ALL, "sessions: list, board, availability", query="course={course2}"),
    # --- the week and the day sheets ---------------------------------------------------------------------------
    Row("week/<location_id>/<day>/", "GET", ALL, "sessions: list, board, availability",
        args={"location_id": "location", "day": "=2026-03-02"}),
    Row("week/<location_id>/<day>/body/", "GET", ALL, "sessions: list, board, availability",
        args={"location_id": "location", "day": "=2026-03-02"}),
    Row("week/all/<day>/", "GET", ALL, "sessions: list, board, availability", args={"day": "=2026-03-02"}),
    Row("week/go/", "GET", ALL, "sessions: list, board, availability", query="date=2026-03-02",
        ok=frozenset({302})),
    Row("week/<location_id>/book/", "GET", ALL, "sessions: list, board, availability",
        args={"location_id": "location"}, query="chair={chair}&start=2026-03-03T10:00"),
    Row("week/<location_id>/book/", "POST", ALL, "sessions: book, move, cancel, no-show, series",
        args={"location_id": "location"},
        body=lambda w, c: {"course": w["course2"], "chair": w["chair"], "start": "2026-03-03T10:00"}),
    Row("week/sessions/<session_id>/move/", "GET", ALL, "sessions: list, board, availability", args=PAGE_S),
    Row("week/sessions/<session_id>/move/", "POST", ALL, "sessions: book, move, cancel, no-show, series",
        args=PAGE_S, body={"start": "2026-03-03T11:00"}),
    Row("board/<location_id>/<day>/sheet/", "GET", ALL, "sessions: list, board, availability",
        args={"location_id": "location", "day": "=2026-03-02"}),
    Row("day-sheet/clinician/<clinician_id>/<day>/", "GET", ALL, "sessions: list, board, availability",
        args={"clinician_id": "clinician", "day": "=2026-03-02"}),
    # --- texts written on the patient's page --------------------------------------------------------------------
    Row("patients/<patient_id>/text/", "GET", ALL,
        "texts: write to a patient from their page, withdraw one held for quiet hours", args={"patient_id": "patient"}),
    Row("patients/<patient_id>/text/", "POST", ALL,
        "texts: write to a patient from their page, withdraw one held for quiet hours", args={"patient_id": "patient"},
        body=lambda w, c: {"message": "Please call us", "form_key": str(uuid.uuid4())}),
    Row("patients/<patient_id>/text/<text_id>/withdraw/", "POST", ALL,
        "texts: write to a patient from their page, withdraw one held for quiet hours",
        args={"patient_id": "patient", "text_id": "desk_text"}),
    # --- the session, step by step -----------------------------------------------------------------------------
    Row("api/sessions/<pk>/chart/", "GET", ALL, "sessions: list, board, availability", args=S),
    Row("sessions/<session_id>/chart/", "GET", ALL, "sessions: list, board, availability", args=PAGE_S),
    Row("api/sessions/<pk>/check-in/", "POST", ALL, "sessions: check in", args=S, body=CHECK_IN),
    Row("sessions/<session_id>/chart/<step>/", "POST", ALL, "sessions: check in",
        args={**PAGE_S, "step": "=check-in"}, body=FORM_CHECK_IN),
    Row("sessions/<session_id>/check-in/", "POST", ALL, "sessions: check in", args=PAGE_S, body=FORM_CHECK_IN),
    *[Row("api/sessions/<pk>/" + step + "/", "POST", CLINICIAN_ONLY,
          "sessions: vitals, BP acknowledgement, dose, infusion end, assessment, discharge", args=S, body=body)
      for step, body in (
          ("vitals", VITALS),
          ("acknowledge-bp", {"reason": "Anxious on arrival; rechecked"}),
          ("dose", {"dose_mg": "56"}),
          ("infusion-end", {}),
          ("device", {}),
          ("assessment", {"sedation": "none", "dissociation": "none", "respiratory": "normal"}),
          ("discharge", {"resolution_attested": True, "driver": "Sister", "could_have_left_after_minutes": 90}),
          ("leave", {"kind": "against_advice", "reason": "Wanted to go", "left_with": "Alone, by taxi"}),
      )],
    *[Row("sessions/<session_id>/chart/<step>/", "POST", CLINICIAN_ONLY,
          "sessions: vitals, BP acknowledgement, dose, infusion end, assessment, discharge",
          args={**PAGE_S, "step": "=" + step}, body=body)
      for step, body in (
          ("vitals", FORM_VITALS),
          ("acknowledge-bp", {"reason": "Anxious on arrival; rechecked"}),
          ("dose", {"dose_mg": "56"}),
          ("infusion-end", {}),
          ("assessment", {"sedation": "none", "dissociation": "none", "respiratory": "normal"}),
          ("discharge", {"resolution_attested": "on", "driver": "Sister"}),
      )],
    # --- REMS forms ------------------------------------------------------------------------------------------
    Row("api/rems-forms/", "GET", ALL, "REMS forms: read"),
    Row("api/rems-forms/<pk>/", "GET", ALL, "REMS forms: read", args={"pk": "rems_form"}),
    Row("api/rems-forms/<pk>/submit/", "POST", CLINICIAN_AND_MANAGER, "REMS forms: mark submitted",
        args={"pk": "rems_form"}, body={"confirmation_number": "R-123"}),
    Row("rems/", "GET", CLINICIAN_AND_MANAGER, "REMS forms: the pages (list, printable form, mark submitted)"),
    Row("rems/<form_id>/", "GET", CLINICIAN_AND_MANAGER,
        "REMS forms: the pages (list, printable form, mark submitted)", args={"form_id": "rems_form"}),
    Row("rems/<form_id>/submit/", "POST", CLINICIAN_AND_MANAGER,
        "REMS forms: the pages (list, printable form, mark submitted)", args={"form_id": "rems_form"},
        body={"confirmation_number": "R-123"}),
    # --- outcome measures ------------------------------------------------------------------------------------
    Row("api/measures/", "GET", ALL, "outcome measures: read", query="patient={patient}"),
    Row("api/measures/<pk>/", "GET", ALL, "outcome measures: read", args={"pk": "measure"}),
    Row("api/patients/<pk>/measures/", "GET", ALL, "outcome measures: read", args=P),
    Row("api/measures/", "POST", DESK_AND_CLINICIAN, "outcome measures: record PHQ-9 / GAD-7",
        body=lambda w, c: {"patient": w["patient"], "instrument": "phq9", "items": PHQ9_ITEMS}),
    Row("api/measures/", "POST", CLINICIAN_ONLY,
        "outcome measures: record MADRS (clinician-rated), acknowledge an item-9 alert",
        body=lambda w, c: {"patient": w["patient"], "instrument": "madrs", "items": MADRS_ITEMS}),
    Row("api/measures/<pk>/acknowledge/", "POST", CLINICIAN_ONLY,
        "outcome measures: record MADRS (clinician-rated), acknowledge an item-9 alert", args={"pk": "measure"},
        body={"note": "Assessed: no plan, safe to proceed"}),
    Row("sessions/<session_id>/chart/<step>/", "POST", DESK_AND_CLINICIAN, "outcome measures: record PHQ-9 / GAD-7",
        args={**PAGE_S, "step": "=measure"}, body={f"item{n}": "1" for n in range(1, 10)}),
    Row("sessions/<session_id>/chart/<step>/", "POST", CLINICIAN_ONLY,
        "outcome measures: record MADRS (clinician-rated), acknowledge an item-9 alert",
        args={**PAGE_S, "step": "=acknowledge-item9"},
        body=lambda w, c: {"measure": w["measure"], "note": "Assessed: no plan, safe to proceed"}),
    Row("sessions/<session_id>/chart/phq9-score/", "POST", ALL, None, args=PAGE_S,
        body={f"item{n}": "1" for n in range(1, 10)}),
    # --- the clinician's pages -----------------------------------------------------------------------------------
    Row("schedule/", "GET", CLINICIAN_AND_MANAGER, "my schedule and the observation board (pages)"),
    Row("observation/", "GET", CLINICIAN_AND_MANAGER, "my schedule and the observation board (pages)",
        ok=frozenset({302})),
    Row("observation/<location_id>/", "GET", CLINICIAN_AND_MANAGER, "my schedule and the observation board (pages)",
        args={"location_id": "location"}),
    Row("observation/<location_id>/body/", "GET", CLINICIAN_AND_MANAGER,
        "my schedule and the observation board (pages)", args={"location_id": "location"}),
    # --- the worklist ------------------------------------------------------------------------------------------
    Row("api/worklist/", "GET", ALL, "worklist: read, assign, snooze, resolve"),
    Row("api/worklist/counts/", "GET", ALL, "worklist: read, assign, snooze, resolve"),
    Row("api/worklist/<pk>/", "GET", ALL, "worklist: read, assign, snooze, resolve", args={"pk": "work_item"}),
    Row("api/worklist/<pk>/assign/", "POST", ALL, "worklist: read, assign, snooze, resolve",
        args={"pk": "work_item"}, body={"user": None}),
    Row("api/worklist/<pk>/snooze/", "POST", ALL, "worklist: read, assign, snooze, resolve",
        args={"pk": "work_item"}, body={"until": "2026-03-05"}),
    Row("api/worklist/<pk>/resolve/", "POST", ALL, "worklist: read, assign, snooze, resolve",
        args={"pk": "work_item"}, body={"note": "Called, booked"}),
    Row("worklist/", "GET", ALL, "worklist: read, assign, snooze, resolve"),
    Row("worklist/count/", "GET", ALL, "worklist: read, assign, snooze, resolve"),
    *[Row("worklist/<item_id>/<action>/", "POST", ALL, "worklist: read, assign, snooze, resolve",
          args={"item_id": "work_item", "action": "=" + action}, body=body)
      for action, body in (("assign", {"user": "me"}), ("snooze", {"until": "2026-03-05"}),
                           ("resolve", {"note": "Called, booked"}))],
    # --- texts -------------------------------------------------------------------------------------------------
    Row("api/reminders/", "GET", ALL, "reminders: read"),
    Row("api/reminders/<pk>/", "GET", ALL, "reminders: read", args={"pk": "reminder"}),
    Row("api/reminders/<pk>/resolve-unknown/", "POST", DESK_AND_MANAGER, "reminders: settle an `unknown` reminder",
        args={"pk": "reminder"}, body={"outcome": "sent", "note": "Console shows delivered"}),
    Row("api/outbox/", "GET", ALL, "outbox and simulated replies (outbox backend)"),
    Row("api/outbox/reply/", "POST", ALL, "outbox and simulated replies (outbox backend)",
        body={"to": "+14155550999", "body": "HELP"}),
    Row("outbox/", "GET", ALL, "outbox and simulated replies (outbox backend)"),
    Row("outbox/reply/", "POST", ALL, "outbox and simulated replies (outbox backend)",
        body={"to": "+14155550999", "body": "HELP"}),
    Row("api/sms/inbound/", "POST", PUBLIC, "provider webhooks `/api/sms/inbound/`, `/api/sms/status/`",
        body=_signed("/api/sms/inbound/", INBOUND)),
    Row("api/sms/status/", "POST", PUBLIC, "provider webhooks `/api/sms/inbound/`, `/api/sms/status/`",
        body=_signed("/api/sms/status/", STATUS)),
    # Unsigned, the webhooks refuse everyone, signed in or not.
    Row("api/sms/inbound/", "POST", PUBLIC, None, body=INBOUND, ok=frozenset({403})),
    Row("api/sms/status/", "POST", PUBLIC, None, body=STATUS, ok=frozenset({403})),
    # The feed's token is its only credential; it answers the same whoever asks.
    Row("ical/clinician/<token>.ics", "GET", PUBLIC, None, args={"token": "feed_token"}),
]
# The newer wings keep their rows beside the data they need (tests/clinic/permission_rows/).
WINGS = (authorisations, authorisation_pages, fhir, fhir_appointments, offers, reports, reports_pages, stock,
         stock_pages)
TABLE += [row for wing in WINGS for row in wing.ROWS]

ADMIN_ROUTE = "admin/"
# The admin has dozens of patterns; its index row stands for all, since the admin itself
# lets in only staff (managers) and, within it, each model by the manager role's permissions.


# --- the world every request runs against ----------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """A clinic on Monday 2 March 2026, 09:00 in New York, with one of everything, and a user per role.

    Built once for the module inside a transaction that is rolled back at the
    end; each request runs in a savepoint of its own, rolled back after it, so
    every caller meets the same world.
    """
    overrides = override_settings(SMS_BACKEND="outbox",
                                  PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), overrides, transaction.atomic(), time_machine.travel(NOW, tick=False):
        users = {
            FRONT_DESK: UserFactory(username="m_desk", roles=[FRONT_DESK]),
            CLINICIAN: UserFactory(username="m_clinician", roles=[CLINICIAN]),
            MANAGER: UserFactory(username="m_manager", roles=[MANAGER], is_staff=True),
            "no_role": UserFactory(username="m_nobody", roles=[]),
        }
        site = Location.objects.create(name="Midtown", time_zone="America/New_York", rems_certified=True)
        for weekday in range(6):
            OpeningHours.objects.create(location=site, weekday=weekday, opens=time(8), closes=time(18))
        chair = Chair.objects.create(location=site, name="Chair 1", serves_esketamine=True)
        site.staff.add(users[CLINICIAN])
        esketamine = Protocol.objects.get(slug="esketamine-trd")
        patient, patient2 = PatientFactory(), PatientFactory()
        course = TreatmentCourseFactory(patient=patient, protocol=esketamine, start_date=TODAY)
        course2 = TreatmentCourseFactory(patient=patient2, protocol=esketamine, start_date=TODAY)
        session = booking.book_session(by=users[FRONT_DESK], course=course, chair=chair,
                                        start=site.at(TODAY, time(10)), clinician=users[CLINICIAN])
        measure = outcomes.record_measure(by=users[CLINICIAN], patient=patient, instrument=Instrument.PHQ9,
                                          items=[0, 0, 0, 0, 0, 0, 0, 0, 1])
        form = RemsForm.objects.create(session=session)
        item = WorkItem.objects.create(kind=WorkKind.RESCHEDULE_REQUEST, subject=f"matrix-{session.pk}",
                                       patient=patient, course=course, session=session, location=site)
        OutboxMessage.objects.create(to=patient.phone, body="Reminder", provider_id="OBmatrix")
        desk_text = DeskText.objects.create(patient=patient, location=site, written_by=users[FRONT_DESK],
                                            form_key=uuid.uuid4(), body="Riverside: call us", created_at=NOW,
                                            send_at=NOW + timedelta(hours=12), state=ReminderState.PENDING)
        # Signed in once: the sessions live in the module's transaction, the requests in savepoints.
        clients = {"anonymous": APIClient()}
        for caller, user in users.items():
            clients[caller] = APIClient()
            clients[caller].force_login(user)
        objects = {"users": users, "site": site, "chair": chair, "patient": patient, "patient2": patient2,
                   "course": course, "course2": course2, "session": session, "protocol": esketamine}
        wing_keys = {}
        for wing in WINGS:
            wing_keys.update(wing.world(objects))
        yield {
            **wing_keys,
            "clients": clients,
            "users": users,
            "usernames": {role: user.username for role, user in users.items()},
            "patient": patient.pk, "patient2": patient2.pk, "course": course.pk, "course2": course2.pk,
            "session": session.pk, "location": site.pk, "chair": chair.pk, "rems_form": form.pk,
            "measure": measure.pk, "work_item": item.pk, "reminder": Reminder.objects.filter(session=session)
            .first().pk, "feed_token": feed_for(users[CLINICIAN]).token, "clinician": users[CLINICIAN].pk,
            "desk_text": desk_text.pk, "protocol": esketamine.pk,
        }
        transaction.set_rollback(True)


def _url(row: Row, world) -> str:
    path = "/" + row.route
    for name, source in row.args.items():
        value = source[1:] if source.startswith("=") else world[source]
        path = path.replace(f"<{name}>", str(value))
    assert "<" not in path, f"{row.label}: no value for a part of {path}"
    return path + ("?" + row.query.format(**world) if row.query else "")


def _send(row: Row, world, caller: str):
    client = world["clients"][caller]
    url = _url(row, world)
    body = row.body(world, caller) if callable(row.body) else row.body
    if row.method == "GET":
        return client.get(url, follow=row.follow)
    if body is not None and "__signed__" in body:
        body = dict(body)
        signature = body.pop("__signed__")
        return client.post(url, urlencode(body), content_type="application/x-www-form-urlencoded",
                           HTTP_X_TWILIO_SIGNATURE=signature)
    if row.route.startswith("api/sms/"):
        return client.post(url, urlencode(body or {}), content_type="application/x-www-form-urlencoded")
    if row.is_api:
        return client.generic(row.method, url, _json(body), content_type="application/json")
    return client.generic(row.method, url, urlencode(body or {}, doseq=True),
                          content_type="application/x-www-form-urlencoded")


def _json(body) -> str:
    import json

    return json.dumps(body if body is not None else {})


def _sent_to_login(response) -> bool:
    if response.status_code == 302:
        return response["Location"].startswith("/login/")
    chain = getattr(response, "redirect_chain", [])
    return bool(chain) and chain[-1][0].startswith("/login/")


def _verdict(row: Row, caller: str, response) -> str | None:
    """What is wrong with ``response`` to ``caller`` for ``row``, or None when it is what the matrix says."""
    status = response.status_code
    allowed = row.who == PUBLIC or caller in row.who
    if status >= 500:
        return "a server error"
    if caller in row.expect:
        return None if status in row.expect[caller] else f"expected one of {sorted(row.expect[caller])}"
    if row.who == PUBLIC:
        return None if status in row.ok else f"expected one of {sorted(row.ok)}"
    if caller == "anonymous":
        if row.is_api:
            return None if status == 401 else "expected 401"
        return None if _sent_to_login(response) else "expected a redirect to the login page"
    if not allowed:
        return None if status == 403 else "expected 403"
    if _sent_to_login(response):
        return "sent to the login page"
    if row.method == "GET":
        return None if status in row.ok else f"expected one of {sorted(row.ok)}"
    return None if status not in (401, 403, 404, 405) else "expected to be let through"


@pytest.mark.parametrize("row", TABLE, ids=lambda row: row.label)
def test_each_caller_gets_what_the_matrix_says(db, world, row):
    wrong = []
    for caller in CALLERS:
        # when: each caller in a savepoint of its own, so all meet the same world
        cookies = copy.deepcopy(world["clients"][caller].cookies)
        with transaction.atomic(), time_machine.travel(NOW, tick=False):
            response = _send(row, world, caller)
            transaction.set_rollback(True)
        world["clients"][caller].cookies = cookies  # e.g. after signing out: the next row is signed in again
        # then
        problem = _verdict(row, caller, response)
        if problem:
            body = getattr(response, "content", b"")[:200]
            wrong.append(f"as {caller}: {response.status_code}, {problem} ({body!r})")
    assert wrong == [], f"{row.label} (docs/PERMISSIONS.md: {row.what or 'every role'})"


# --- the table covers every URL pattern, and says what the matrix in docs/PERMISSIONS.md says ------------------


def _normalize(route: str) -> str:
    """``api/^patients/(?P<pk>[^/.]+)/$`` and ``patients/<int:pk>/`` both read ``.../<pk>/``."""
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", route)
    return route


def _patterns(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield _normalize(prefix + str(pattern.pattern)), pattern.callback


def _api_methods(callback) -> set[str]:
    """The methods an API view answers (a viewset's actions, or an APIView's handlers), in capitals."""
    cls = getattr(callback, "cls", None)
    if cls is None:
        return set()
    allowed = {m for m in cls.http_method_names if m not in ("head", "options")}
    actions = getattr(callback, "actions", None)
    if actions:
        return {method.upper() for method in actions if method in allowed}
    return {method.upper() for method in allowed if hasattr(cls, method)}


def test_every_url_pattern_and_api_method_has_a_row_in_the_table():
    rows = {(row.route, row.method) for row in TABLE}
    routes = {row.route for row in TABLE}
    missing = []
    for route, callback in _patterns():
        if route.startswith(ADMIN_ROUTE):
            continue  # the admin's index row stands for the admin
        if route not in routes:
            missing.append(route)
            continue
        missing.extend(f"{method} {route}" for method in _api_methods(callback) if (route, method) not in rows)
    assert missing == [], ("Add a row to TABLE (who may call it, and the line of the matrix in docs/PERMISSIONS.md) "
                           "for: " + ", ".join(missing))
    assert ADMIN_ROUTE in routes
    stale = routes - {route for route, _ in _patterns()}
    assert stale == set(), f"Rows for patterns that no longer exist: {stale}"


MATRIX_FILE = ROOT / "docs" / "PERMISSIONS.md"
MATRIX_HEADING = "## The role matrix"


def _documented_matrix() -> dict[str, frozenset | str]:
    """The matrix in docs/PERMISSIONS.md: each line's "what" -> the roles it says yes to (or ``PUBLIC``)."""
    text = MATRIX_FILE.read_text()
    assert MATRIX_HEADING in text, f"the matrix in docs/PERMISSIONS.md needs its heading {MATRIX_HEADING!r}"
    section = text.split(MATRIX_HEADING, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| what")]
    matrix = {}
    for line in lines:
        what, desk, clinician, manager = (cell.strip() for cell in line.strip().strip("|").split("|"))
        if desk.startswith("signed by the provider"):
            matrix[what] = PUBLIC
            continue
        yes = {role for role, cell in ((FRONT_DESK, desk), (CLINICIAN, clinician), (MANAGER, manager))
               if cell == "yes"}
        assert all(cell in ("yes", "no") for cell in (desk, clinician, manager)), line
        matrix[what] = frozenset(yes)
    return matrix


def test_the_table_gives_each_matrix_line_its_roles_and_uses_every_line():
    matrix = _documented_matrix()
    assert matrix, "no lines found in the matrix in docs/PERMISSIONS.md"
    disagreements = [f"{row.label}: table {sorted(row.who)}, docs/PERMISSIONS.md {sorted(matrix[row.what])}"
                     for row in TABLE if row.what is not None and row.what in matrix and row.who != matrix[row.what]]
    unknown = sorted({row.what for row in TABLE if row.what is not None and row.what not in matrix})
    unused = sorted(set(matrix) - {row.what for row in TABLE})
    rule_breakers = [row.label for row in TABLE if row.what is None and row.who not in (ALL, PUBLIC)]
    assert disagreements == []
    assert unknown == [], "Lines the table names but the matrix in docs/PERMISSIONS.md lacks"
    assert unused == [], "Lines of the matrix in docs/PERMISSIONS.md that no request tests"
    assert rule_breakers == [], "A row without a line of the matrix in docs/PERMISSIONS.md must be open to every role"
