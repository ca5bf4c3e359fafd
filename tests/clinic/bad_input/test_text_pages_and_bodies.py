"""Bad text, pages, bodies and numbers, API and web pages alike: a clear 4xx, or stored and shown as sent.

Huge pages, unicode names, SQL and HTML in every text field, oversized bodies, ids and numbers
out of range. The world is in tests/clinic/bad_input/conftest.py.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils.html import escape

from clinic.roles import CLINICIAN, FRONT_DESK, PRESCRIBER
from patients.models import Patient
from scheduling.booking import services as booking
from scheduling.charting import rems
from scheduling.models import Session
from scheduling.worklist import sweep
from tests.clinic.bad_input.conftest import assert_field_error, new_course
from tests.factories import PatientFactory
from tests.scheduling.stock.factories import LotFactory

# Every test here runs at "now", Monday 2 March 2026, 09:00 in New York.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("now")]

TUESDAY = date(2026, 3, 3)
UNICODE_NAMES = [
    ("Zoë", "Ñúñez-Øster 李"),
    ("Ana 🙂", "O'Brien-🏳️‍🌈"),          # emoji, with a zero-width-joiner sequence
    ("Zoe\u0308", "Nguyễn"),              # a combining diaeresis (NFD): kept as sent, not normalised
    ("محمد", "עברית"),                    # right-to-left scripts
]
SCRIPT = "<script>alert('xss')</script>"
SQL = "Robert'); DROP TABLE patients_patient; --"
HOSTILE = f"{SCRIPT} {SQL} \" & <b>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;"
CHECKLIST = {"fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True,
             "ride_home_arranged": True}


# --- huge pages -------------------------------------------------------------------------------------


@pytest.fixture
def many_patients(db):
    Patient.objects.bulk_create([
        Patient(mrn=f"P{number:05d}", first_name=f"First{number}", last_name="Many", date_of_birth=date(1980, 1, 1))
        for number in range(230)
    ])


@pytest.mark.parametrize("page", ["999999", "0", "-1", "abc", "1e9", "99999999999999999999999"])
def test_a_page_past_the_last_or_malformed_is_a_404_in_the_error_format(desk_api, many_patients, page):
    response = desk_api.get("/api/patients/", {"page": page})
    assert response.status_code == 404, response.content[:300]
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("page_size,expected", [("100000", 200), ("201", 200), ("0", 25), ("-5", 25),
                                                ("abc", 25), ("99999999999999999999999", 200), ("50", 50)])
def test_a_page_size_is_capped_at_200_and_a_malformed_one_is_the_default(desk_api, many_patients, page_size,
                                                                          expected):
    response = desk_api.get("/api/patients/", {"page_size": page_size})
    assert response.status_code == 200, response.content[:300]
    assert len(response.json()["results"]) == expected
    assert response.json()["count"] == 230


@pytest.mark.parametrize("url", ["/api/sessions/", "/api/courses/", "/api/measures/", "/api/reminders/",
                                 "/api/worklist/", "/api/rems-forms/", "/api/locations/", "/api/protocols/"])
def test_every_list_caps_its_page_size_and_refuses_a_page_past_the_last(desk_api, url):
    assert desk_api.get(url, {"page_size": "100000"}).status_code == 200
    assert desk_api.get(url, {"page": "999999"}).status_code == 404


# --- unicode names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("first,last", UNICODE_NAMES)
def test_unicode_names_are_stored_returned_found_and_shown_intact(desk_api, client, staff, first, last):
    response = desk_api.post("/api/patients/", {"first_name": first, "last_name": last, "preferred_name": first,
                                                "date_of_birth": "1980-05-17", "notes": f"{first} {last}"},
                             format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["first_name"], body["last_name"], body["display_name"]) == (first, last, f"{first} {last}")
    patient = Patient.objects.get(pk=body["id"])
    assert (patient.first_name, patient.last_name, patient.notes) == (first, last, f"{first} {last}")
    assert desk_api.get(f"/api/patients/{patient.pk}/").json()["last_name"] == last
    found = desk_api.get("/api/patients/", {"q": last}).json()["results"]
    assert [row["id"] for row in found] == [patient.pk]
    client.force_login(staff[FRONT_DESK])
    for page in (f"/patients/{patient.pk}/", f"/patients/?q={last}", f"/patients/{patient.pk}/edit/"):
        html = client.get(page).content.decode()
        assert escape(last) in html, page


@pytest.mark.parametrize("value", ["\x00", "Ana\x00Rivera", "\ud800", "Ana\udfffRivera"], ids=repr)
def test_a_name_with_a_nul_or_a_lone_surrogate_is_a_400_naming_the_field(desk_api, value):
    body = json.dumps({"first_name": "Dana", "last_name": "placeholder", "date_of_birth": "1980-05-17"})
    body = body.replace('"placeholder"', json.dumps(value))  # json.dumps writes a lone surrogate as \\ud800
    response = desk_api.generic("POST", "/api/patients/", body, content_type="application/json")
    assert_field_error(response, "last_name")
    assert not Patient.objects.exists()


@pytest.mark.parametrize("query", ["q=%00", "q=Ann%00", "q=%2500", "q=%ED%A0%80", "q=%FF%FE", "q=%27+OR+1%3D1+--",
                                   "q=%25", "q=_", "q=%5C", "q=%E6%9D%8E", "q=Ann&q=Lee"])
def test_searching_with_odd_text_is_answered_never_a_crash(desk_api, client, staff, query):
    """A NUL, bytes that are not UTF-8 (a lone surrogate's encoding), SQL and LIKE wildcards: no match, no crash."""
    PatientFactory(first_name="Ann", last_name="Lee")
    response = desk_api.get(f"/api/patients/?{query}")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["count"] == (1 if query == "q=Ann&q=Lee" else 0)
    client.force_login(staff[FRONT_DESK])
    assert client.get(f"/patients/?{query}").status_code == 200


# --- SQL and HTML in every text field ---------------------------------------------------------------

PATIENT_TEXT_FIELDS = ("first_name", "last_name", "preferred_name", "mrn", "rems_patient_id",
                       "emergency_contact_name", "notes")
SHORT_FIELDS = ("mrn", "rems_patient_id")  # 32 and 40 characters at most: the script alone


def hostile(name: str) -> str:
    return SCRIPT if name in SHORT_FIELDS else f"{HOSTILE} {name}"


@pytest.fixture
def hostile_patient(desk_api):
    values = {name: hostile(name) for name in PATIENT_TEXT_FIELDS}
    response = desk_api.post("/api/patients/", {**values, "date_of_birth": "1980-05-17",
                                                "rems_enrolled_on": "2026-01-05"}, format="json")
    assert response.status_code == 201, response.json()
    return Patient.objects.get(pk=response.json()["id"])


def test_sql_and_html_in_every_patient_text_field_are_stored_and_returned_literally(desk_api, hostile_patient):
    body = desk_api.get(f"/api/patients/{hostile_patient.pk}/").json()
    for name in PATIENT_TEXT_FIELDS:
        assert body[name] == hostile(name)
        assert getattr(hostile_patient, name) == hostile(name)
    assert Patient.objects.count() == 1  # the DROP TABLE did nothing
    found = desk_api.get("/api/patients/", {"q": SQL}).json()
    assert [row["id"] for row in found["results"]] == [hostile_patient.pk]


@pytest.fixture
def hostile_clinic(desk_api, clinician_api, manager_api, site, chair, staff, hostile_patient):
    """Every text a person types, as hostile text, somewhere a page shows it."""
    assert manager_api.patch(f"/api/locations/{site.pk}/", {"address": HOSTILE}, format="json").status_code == 200
    assert manager_api.patch(f"/api/chairs/{chair.pk}/", {"name": f"{SCRIPT} chair"},
                             format="json").status_code == 200
    course = new_course(date(2026, 3, 2), patient=hostile_patient)
    with time_machine.travel(datetime(2026, 3, 2, 13, 0, tzinfo=UTC), tick=False):
        booked = desk_api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk,
                                                  "start": "2026-03-02T09:00", "override_reason": HOSTILE},
                               format="json")
    assert booked.status_code == 201, booked.json()
    session_id = booked.json()["id"]
    staff[CLINICIAN].groups.add(Group.objects.get(name=PRESCRIBER))  # the esketamine dose names a prescriber
    steps = [
        (desk_api, "check-in", CHECKLIST),
        (clinician_api, "vitals", {"kind": "pre_dose", "systolic": 120, "diastolic": 80, "heart_rate": 70,
                                   "spo2": 98}),
        (clinician_api, "dose", {"dose_mg": "56", "devices": 2,
                                 "lot": LotFactory(location=site, lot_number=f"{SCRIPT}"[:40], stock=6).pk}),
        (clinician_api, "assessment", {"sedation": "none", "dissociation": "none", "respiratory": "normal",
                                       "adverse_event": True, "adverse_event_description": HOSTILE}),
    ]
    for api, step, payload in steps:
        answer = api.post(f"/api/sessions/{session_id}/{step}/", payload, format="json")
        assert answer.status_code in (200, 201), (step, answer.json())
    other = booking.book_session(by=staff[FRONT_DESK], course=new_course(TUESDAY), chair=chair,
                                  start=chair.location.at(TUESDAY, time(15)))
    assert desk_api.post(f"/api/sessions/{other.pk}/cancel/", {"reason": HOSTILE}, format="json").status_code == 200
    # A course due and not booked, for a patient named in hostile text: the worklist shows the name.
    new_course(date(2026, 3, 2), patient=PatientFactory(first_name=SCRIPT, last_name=HOSTILE))
    sweep.refresh_worklist()
    form = rems.refresh_form(Session.objects.get(pk=session_id))
    return {"session": session_id, "site": site, "form": form.pk}


def test_sql_and_html_are_escaped_on_every_page_that_shows_them(client, staff, hostile_clinic, hostile_patient):
    site, session, form = hostile_clinic["site"], hostile_clinic["session"], hostile_clinic["form"]
    pages = {
        FRONT_DESK: [f"/patients/{hostile_patient.pk}/", f"/patients/?q={hostile_patient.last_name[:10]}",
                     f"/patients/{hostile_patient.pk}/edit/", f"/board/{site.pk}/2026-03-02/",
                     f"/board/{site.pk}/2026-03-03/", f"/sessions/{session}/", "/worklist/"],
        CLINICIAN: [f"/sessions/{session}/chart/", f"/observation/{site.pk}/", "/schedule/?date=2026-03-02",
                    "/rems/", f"/rems/{form}/"],
    }
    for role, urls in pages.items():
        client.force_login(staff[role])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            html = response.content.decode()
            assert SCRIPT not in html, url
            assert ESCAPED_SCRIPT in html, url


# --- oversized bodies -------------------------------------------------------------------------------


def _big_notes() -> str:
    return "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=BoUnDaRy"])
def test_an_oversized_api_body_is_a_413_in_the_error_format(desk_api, content_type):
    notes = _big_notes()
    if content_type == "application/json":
        body = json.dumps({"first_name": "Dana", "last_name": "Reyes", "date_of_birth": "1980-05-17", "notes": notes})
    elif content_type.startswith("multipart"):
        body = ("--BoUnDaRy\r\nContent-Disposition: form-data; name=\"notes\"\r\n\r\n" + notes
                + "\r\n--BoUnDaRy--\r\n")
    else:
        body = f"first_name=Dana&last_name=Reyes&date_of_birth=1980-05-17&notes={notes}"
    response = desk_api.generic("POST", "/api/patients/", body, content_type=content_type)
    assert response.status_code == 413, (response.status_code, response.content[:300])
    assert response.json()["code"] == "too_large"
    assert not Patient.objects.exists()


def test_too_many_form_fields_are_a_400_not_a_crash(desk_api):
    body = "&".join(f"field{number}=x" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 10))
    response = desk_api.generic("POST", "/api/patients/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"]


def test_a_long_text_field_is_a_400_naming_it(desk_api):
    response = desk_api.post("/api/patients/", {"first_name": "D" * 101, "last_name": "Reyes",
                                                "date_of_birth": "1980-05-17"}, format="json")
    assert_field_error(response, "first_name")


def test_an_oversized_web_form_is_refused_not_a_crash(client, staff):
    client.force_login(staff[FRONT_DESK])
    response = client.post("/patients/new/", {"first_name": "Dana", "last_name": "Reyes",
                                              "date_of_birth": "1980-05-17", "notes": _big_notes()})
    assert response.status_code == 413, response.status_code
    assert not Patient.objects.exists()


@pytest.mark.parametrize("body", ["{", "[]", "null", '"text"', "1e999", '{"first_name": NaN}', "\xff\xfe"], ids=repr)
def test_a_malformed_json_body_is_a_400(desk_api, body):
    response = desk_api.generic("POST", "/api/patients/", body.encode("utf-8", "surrogateescape")
                                if isinstance(body, str) else body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"]


# --- numbers and ids --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["99999999999999999999", "-1", "1.5", "1e3", "0x10", "NaN", "١٢"])
def test_ids_out_of_range_or_malformed_are_a_404_or_a_400(desk_api, chair, value):
    for url in (f"/api/patients/{value}/", f"/api/sessions/{value}/", f"/api/courses/{value}/plan/",
                f"/api/locations/{value}/board/", f"/api/protocols/{value}/"):
        response = desk_api.get(url)
        assert response.status_code == 404, (url, response.status_code, response.content[:300])
    for url, params in [("/api/sessions/", {"patient": value}), ("/api/courses/", {"patient": value}),
                        ("/api/availability/", {"course": value}), ("/api/worklist/", {"location": value}),
                        ("/api/measures/", {"patient": value})]:
        response = desk_api.get(url, params)
        assert response.status_code in (200, 400), (url, params, response.status_code, response.content[:300])
    booked = desk_api.post("/api/sessions/", {"course": value, "chair": value, "start": "2026-03-03T09:00"},
                           format="json")
    assert booked.status_code == 400, booked.content[:300]


@pytest.mark.parametrize("value", [10**20, -(10**20), 1e308, "1e999", 32768, 2**31])
def test_numbers_out_of_range_are_a_400(clinician_api, manager_api, site, chair, value):
    response = manager_api.patch(f"/api/locations/{site.pk}/", {"turnover_minutes": value}, format="json")
    assert_field_error(response, "turnover_minutes")
    response = manager_api.patch(f"/api/locations/{site.pk}/", {"max_in_treatment_per_clinician": value},
                                 format="json")
    assert_field_error(response, "max_in_treatment_per_clinician")
