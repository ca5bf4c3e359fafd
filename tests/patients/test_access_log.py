"""Every read of a patient's record is in the access log, and managers can report on it.

The reads: the patient API and pages (tests/patients/test_patient_audit.py),
the history, courses and sessions asked for by patient, a course and its
plan, a session and its chart, a REMS form (API and printable page), outcome
measures, the admin's patient page, and the calendar feed (an export, once a
day per patient). The report: ``GET /api/audit/access/``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from clinic.roles import CLINICIAN
from patients.models import PatientAccess
from scheduling.booking.calendar_feed import feed_for
from scheduling.charting import outcomes
from scheduling.pages.ical import FEED_LOG_PATH
from tests.conftest import NOW
from tests.factories import PatientFactory, RemsFormFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(book, site, chair, front_desk, now):
    """A patient with an esketamine course and a session booked today at 10:00 New York time."""
    clinician = UserFactory(username="dr_feed", roles=[CLINICIAN])
    return book(chair, site.at(date(2026, 3, 2), time(10)), by=front_desk, clinician=clinician)


def reads(patient, user) -> list[str]:
    return list(PatientAccess.objects.filter(patient=patient, user=user).order_by("id").values_list("path", flat=True))


@pytest.mark.parametrize("address", [
    "/api/courses/?patient={patient}",
    "/api/courses/{course}/",
    "/api/courses/{course}/plan/",
    "/api/sessions/?patient={patient}",
    "/api/sessions/{session}/",
    "/api/sessions/{session}/chart/",
    "/api/rems-forms/{form}/",
    "/api/measures/?patient={patient}",
    "/api/patients/{patient}/measures/",
    "/api/patients/{patient}/history/",
])
def test_an_api_read_of_a_patients_record_is_logged(api_as, manager, booked, address):
    # given a REMS form and an outcome measure to read
    form = RemsFormFactory(session=booked)
    outcomes.record_measure(by=booked.clinician, patient=booked.patient, instrument="phq9", items=[1] * 8 + [0])
    PatientAccess.objects.all().delete()
    url = address.format(patient=booked.patient_id, course=booked.course_id, session=booked.pk, form=form.pk)
    # when
    response = api_as(manager).get(url)
    # then
    assert response.status_code == 200, response.content
    assert reads(booked.patient, manager) == [url.split("?")[0]]
    assert PatientAccess.objects.get(user=manager).channel == PatientAccess.Channel.API


def test_a_list_that_is_not_asked_for_one_patient_is_not_logged_per_row(api_as, front_desk, booked):
    # the day's sessions and all courses are schedules, not a patient's record
    api_as(front_desk).get("/api/sessions/?date=2026-03-02")
    api_as(front_desk).get("/api/courses/")
    assert reads(booked.patient, front_desk) == []


def test_the_printable_rems_form_is_logged(client, booked):
    # given
    form = RemsFormFactory(session=booked)
    client.force_login(booked.clinician)
    # when
    response = client.get(f"/rems/{form.pk}/")
    # then
    assert response.status_code == 200
    assert reads(booked.patient, booked.clinician) == [f"/rems/{form.pk}/"]


def test_the_admins_patient_page_is_logged(client, manager, patient):
    # given a manager, who is staff
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    # when
    response = client.get(f"/admin/patients/patient/{patient.pk}/change/")
    # then
    assert response.status_code == 200
    assert reads(patient, manager) == [f"/admin/patients/patient/{patient.pk}/change/"]


def test_the_calendar_feed_is_logged_as_an_export_once_a_day_without_its_token(client, booked):
    # given
    feed = feed_for(booked.clinician)
    # when the calendar app fetches it three times in a day, and again the next day
    for minutes in (0, 15, 30):
        with time_machine.travel(NOW + timedelta(minutes=minutes), tick=False):
            assert client.get(f"/ical/clinician/{feed.token}.ics").status_code == 200
    with time_machine.travel(NOW + timedelta(days=1, minutes=1), tick=False):
        client.get(f"/ical/clinician/{feed.token}.ics")
    # then: one row a day, naming the clinician it went to, never the token
    rows = PatientAccess.objects.filter(patient=booked.patient)
    assert [(row.user, row.channel, row.path) for row in rows] == [
        (booked.clinician, PatientAccess.Channel.EXPORT, FEED_LOG_PATH)] * 2
    assert not PatientAccess.objects.filter(path__contains=feed.token).exists()


# --- the report -----------------------------------------------------------------------------------------------


@pytest.fixture
def log(front_desk, clinician):
    """Three openings of two patients' records by two users over three days."""
    first, second = PatientFactory(), PatientFactory()
    rows = [
        (first, front_desk, datetime(2026, 3, 1, 9, tzinfo=UTC)),
        (first, clinician, datetime(2026, 3, 2, 9, tzinfo=UTC)),
        (second, front_desk, datetime(2026, 3, 3, 9, tzinfo=UTC)),
    ]
    for patient, user, at in rows:
        PatientAccess.objects.create(patient=patient, user=user, at=at, channel="web",
                                     path=f"/patients/{patient.pk}/")
    return first, second


def test_a_manager_sees_who_opened_a_patients_record_newest_first(api_as, manager, log, front_desk, clinician):
    first, _ = log
    response = api_as(manager).get(f"/api/audit/access/?patient={first.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(row["username"], row["patient"], row["patient_mrn"], row["channel"]) for row in body["results"]] == [
        ("nurse", first.pk, first.mrn, "web"), ("desk", first.pk, first.mrn, "web")]


def test_a_manager_sees_whose_records_a_user_opened(api_as, manager, log, front_desk):
    first, second = log
    rows = api_as(manager).get(f"/api/audit/access/?user={front_desk.pk}").json()["results"]
    assert [row["patient"] for row in rows] == [second.pk, first.pk]


@pytest.mark.parametrize("query, expected", [
    ("from=2026-03-02", 2),
    ("to=2026-03-02", 2),  # a date "to" includes that whole day
    ("from=2026-03-02&to=2026-03-02", 1),
    ("from=2026-03-02T08:00:00Z&to=2026-03-02T10:00:00Z", 1),
    ("from=2026-03-04", 0),
])
def test_the_report_narrows_to_a_date_range(api_as, manager, log, query, expected):
    assert api_as(manager).get(f"/api/audit/access/?{query}").json()["count"] == expected


def test_the_report_is_paginated(api_as, manager, log):
    body = api_as(manager).get("/api/audit/access/?page_size=2").json()
    assert (body["count"], len(body["results"]), body["next"] is not None) == (3, 2, True)


@pytest.mark.parametrize("query", ["from=yesterday", "patient=abc", "from=2026-03-03&to=2026-03-01"])
def test_a_bad_filter_is_a_400_naming_it(api_as, manager, query):
    response = api_as(manager).get(f"/api/audit/access/?{query}")
    assert response.status_code == 400
    assert set(response.json()["fields"]) <= {"from", "to", "patient"} and response.json()["fields"]


@pytest.mark.parametrize("who", ["front_desk", "clinician"])
def test_only_managers_see_the_report(request, api_as, who):
    assert api_as(request.getfixturevalue(who)).get("/api/audit/access/").status_code == 403


def test_the_report_is_in_the_api_schema(api_as, manager):
    schema = api_as(manager).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/audit/access/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"patient", "user", "from", "to", "page"}
