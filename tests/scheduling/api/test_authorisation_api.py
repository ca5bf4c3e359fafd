"""Prior authorisations through the API: entered and changed with field errors and 409 codes, listed with their
units, read with their history, and session bookings that carry ``authorisation_reason``."""

from __future__ import annotations

from datetime import date

import pytest

from protocols.models import PriorAuthorisation
from scheduling.models import Session
from tests.factories import PriorAuthorisationFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

TUESDAY, FRIDAY = date(2026, 3, 3), date(2026, 3, 6)
APPROVED = {"payer": "Aetna", "number": "PA-77", "status": "approved", "units_approved": 8,
            "first_day": "2026-03-03", "last_day": "2026-04-30", "submitted_on": "2026-02-20",
            "decided_on": "2026-02-25", "documents": ["fax 2026-02-20 PHQ-9 and MADRS"]}


def enter(api, course, **body):
    return api.post(f"/api/courses/{course.pk}/authorisations/", body, format="json")


@pytest.mark.parametrize("role_api", ["desk_api", "clinician_api", "manager_api"])
def test_the_desk_clinicians_and_managers_enter_an_authorisation(request, esk_course, role_api):
    # when
    response = enter(request.getfixturevalue(role_api), esk_course, **APPROVED)
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["units_used"], body["units_left"], body["label"]) == (
        "approved", 0, 8, "0 of 8 used, ends 30 Apr")
    assert PriorAuthorisation.objects.get(pk=body["id"]).course == esk_course


def test_the_list_gives_units_used_and_left_for_each_authorisation_over_time(
        desk_api, esk_course, chair, site, front_desk, book):
    # given an induction block with one session booked, and a maintenance request pending
    PriorAuthorisationFactory(course=esk_course, units_approved=2, first_day=TUESDAY, last_day=date(2026, 3, 31))
    PriorAuthorisationFactory(course=esk_course, status="pending", units_approved=None, first_day=None,
                              last_day=None, submitted_on=date(2026, 3, 1), decided_on=None)
    book(chair, local(site, TUESDAY, 9), course=esk_course, by=front_desk)
    # when
    response = desk_api.get(f"/api/courses/{esk_course.pk}/authorisations/")
    # then
    assert response.status_code == 200
    assert [(row["status"], row["units_used"], row["units_left"], row["label"]) for row in response.json()] == [
        ("approved", 1, 1, "1 of 2 used, ends 31 Mar"), ("pending", 0, None, "pending since 1 Mar")]


@pytest.mark.parametrize(("changes", "field"), [
    ({"units_approved": None}, "units_approved"),
    ({"units_approved": 0}, "units_approved"),
    ({"last_day": None}, "last_day"),
    ({"last_day": "2026-03-01"}, "last_day"),
    ({"decided_on": "2026-02-01"}, "decided_on"),
    ({"payer": ""}, "payer"),
    ({"documents": [""]}, "documents"),
    ({"documents": "not a list"}, "documents"),
    ({"status": "maybe"}, "status"),
    ({"first_day": "not a date"}, "first_day"),
    ({"units_approved": -3}, "units_approved"),
    ({"units_approved": "eight"}, "units_approved"),
    ({"first_day": "0001-01-01"}, "first_day"),
    ({"last_day": "9999-12-31"}, "last_day"),
    ({"submitted_on": "1850-02-20", "decided_on": None}, "submitted_on"),
    ({"documents": [12, True]}, "documents"),
    ({"notes": "x" * 4001}, "notes"),
])
def test_an_authorisation_the_rules_refuse_is_a_400_naming_the_field(desk_api, esk_course, changes, field):
    # when
    response = enter(desk_api, esk_course, **{**APPROVED, **changes})
    # then
    assert response.status_code == 400, response.json()
    assert any(name.split(".")[0] == field for name in response.json()["fields"]), response.json()
    assert not PriorAuthorisation.objects.exists()


def test_two_approved_authorisations_covering_the_same_day_are_a_409(desk_api, esk_course):
    # given
    PriorAuthorisationFactory(course=esk_course, first_day=date(2026, 4, 1), last_day=date(2026, 6, 30))
    # when
    response = enter(desk_api, esk_course, **APPROVED)
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "authorisation_overlap"


def test_the_payers_answer_is_entered_with_patch_and_the_decision_day_defaults_to_today(desk_api, esk_course, now):
    # given a pending request
    pending = enter(desk_api, esk_course, payer="Cigna", submitted_on="2026-02-26").json()
    # when the payer approves it
    response = desk_api.patch(f"/api/authorisations/{pending['id']}/", {
        "status": "approved", "units_approved": 6, "first_day": "2026-03-03", "last_day": "2026-03-31"},
        format="json")
    # then
    assert response.status_code == 200, response.json()
    assert (response.json()["decided_on"], response.json()["label"]) == ("2026-03-02", "0 of 6 used, ends 31 Mar")


def test_units_below_one_are_refused_in_the_same_words_the_schema_gives(desk_api, esk_course):
    # when
    answers = [enter(desk_api, esk_course, **{**APPROVED, "units_approved": units}).json() for units in (0, -3)]
    schema = desk_api.get("/api/schema/", {"format": "json"}).json()
    # then
    assert [answer["fields"]["units_approved"] for answer in answers] == [["At least 1 session."]] * 2
    assert schema["components"]["schemas"]["AuthorisationRequest"]["properties"]["units_approved"]["minimum"] == 1


def test_an_approval_withdrawn_without_its_day_is_denied_today_not_on_the_approvals_day(desk_api, esk_course, now):
    # given an approval decided on 25 Feb
    approved = enter(desk_api, esk_course, **APPROVED).json()
    # when the payer withdraws it and the desk enters only the status
    response = desk_api.patch(f"/api/authorisations/{approved['id']}/", {"status": "denied"}, format="json")
    # then
    assert response.status_code == 200, response.json()
    assert (response.json()["decided_on"], response.json()["label"]) == ("2026-03-02", "denied 2 Mar")


def test_a_denied_request_sent_again_is_pending_from_its_new_day_with_no_answer(desk_api, esk_course, now):
    # given a request denied on 25 Feb
    denied = enter(desk_api, esk_course, **{**APPROVED, "status": "denied"}).json()
    # when the desk sends it again on 1 Mar, after the denial
    response = desk_api.patch(f"/api/authorisations/{denied['id']}/", {"status": "pending",
                                                                       "submitted_on": "2026-03-01"}, format="json")
    # then
    assert response.status_code == 200, response.json()
    assert (response.json()["submitted_on"], response.json()["decided_on"], response.json()["label"]) == (
        "2026-03-01", None, "pending since 1 Mar")


def test_a_denied_request_sent_again_without_its_day_was_sent_today(desk_api, esk_course, now):
    # given
    denied = enter(desk_api, esk_course, **{**APPROVED, "status": "denied"}).json()
    # when
    response = desk_api.patch(f"/api/authorisations/{denied['id']}/", {"status": "pending"}, format="json")
    # then
    assert (response.json()["submitted_on"], response.json()["decided_on"]) == ("2026-03-02", None)


@pytest.mark.parametrize(("start", "to"), [("expired", "approved"), ("expired", "pending"),
                                           ("approved", "pending")])
def test_a_status_moves_only_as_the_rules_allow(desk_api, esk_course, start, to):
    # given
    authorisation = PriorAuthorisationFactory(course=esk_course, status=start)
    # when
    response = desk_api.patch(f"/api/authorisations/{authorisation.pk}/", {"status": to}, format="json")
    # then
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_put_replaces_every_writable_field_and_the_course_stays(desk_api, esk_course, iv_course):
    authorisation = PriorAuthorisationFactory(course=esk_course)
    response = desk_api.put(f"/api/authorisations/{authorisation.pk}/",
                            {**APPROVED, "units_approved": 10, "course": iv_course.pk}, format="json")
    assert response.status_code == 200, response.json()
    authorisation.refresh_from_db()
    assert (authorisation.units_approved, authorisation.course) == (10, esk_course)


def test_an_authorisation_is_never_deleted(manager_api, esk_course):
    authorisation = PriorAuthorisationFactory(course=esk_course, status="pending")
    response = manager_api.delete(f"/api/authorisations/{authorisation.pk}/")
    assert response.status_code == 405
    assert PriorAuthorisation.objects.filter(pk=authorisation.pk).exists()


def test_the_history_gives_every_version_with_who_changed_it(desk_api, front_desk, esk_course):
    # given an authorisation entered, then approved
    created = enter(desk_api, esk_course, payer="Cigna", submitted_on="2026-02-26").json()
    desk_api.patch(f"/api/authorisations/{created['id']}/", {
        "status": "approved", "units_approved": 6, "first_day": "2026-03-03", "last_day": "2026-03-31"},
        format="json")
    # when
    response = desk_api.get(f"/api/authorisations/{created['id']}/history/")
    # then
    assert response.status_code == 200
    assert [(row["change"], row["status"], row["by"]) for row in response.json()] == [
        ("insert", "pending", front_desk.pk), ("update", "approved", front_desk.pk)]


def test_an_unknown_course_or_authorisation_is_a_404(desk_api):
    assert desk_api.post("/api/courses/987654/authorisations/", APPROVED, format="json").status_code == 404
    assert desk_api.get("/api/authorisations/987654/").status_code == 404


# --- bookings through the API ----------------------------------------------------------------------------


def post_session(api, course, chair, start, **extra):
    return api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk, "start": start.isoformat(), **extra},
                    format="json")


def test_a_booking_beyond_is_a_409_and_goes_ahead_with_a_clinicians_reason(
        desk_api, clinician_api, clinician, esk_course, chair, site, now):
    # given an authorisation that ended before Tuesday
    PriorAuthorisationFactory(course=esk_course, first_day=date(2026, 2, 1), last_day=date(2026, 3, 2))
    # when the desk books / then
    refused = post_session(desk_api, esk_course, chair, local(site, TUESDAY, 9))
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_authorisation"
    # when a clinician books with a reason / then
    booked = post_session(clinician_api, esk_course, chair, local(site, TUESDAY, 9),
                          authorisation_reason="Renewal faxed 27 Feb")
    assert booked.status_code == 201, booked.json()
    assert (booked.json()["authorisation_override_reason"], booked.json()["authorisation_override_by"]) == (
        "Renewal faxed 27 Feb", clinician.pk)


def test_the_desks_reason_is_refused_with_a_clear_code(desk_api, esk_course, chair, site):
    PriorAuthorisationFactory(course=esk_course, status="denied")
    response = post_session(desk_api, esk_course, chair, local(site, TUESDAY, 9), authorisation_reason="Urgent")
    assert response.status_code == 403
    assert response.json()["code"] == "authorisation_override_not_allowed"
    assert not Session.objects.exists()


def test_a_move_through_the_api_takes_the_reason_too(desk_api, clinician_api, esk_course, chair, site, book,
                                                     front_desk):
    # given a session inside an authorisation ending Thursday
    PriorAuthorisationFactory(course=esk_course, first_day=TUESDAY, last_day=date(2026, 3, 5))
    session = book(chair, local(site, TUESDAY, 9), course=esk_course, by=front_desk)
    url = f"/api/sessions/{session.pk}/reschedule/"
    body = {"start": local(site, FRIDAY, 9).isoformat()}
    # when / then
    assert desk_api.post(url, body, format="json").json()["code"] == "no_authorisation"
    moved = clinician_api.post(url, {**body, "authorisation_reason": "Extension granted by phone"}, format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["authorisation_override_reason"] == "Extension granted by phone"


def test_a_series_through_the_api_flags_the_occurrences_beyond_the_last_day(desk_api, esk_course, chair):
    # given
    PriorAuthorisationFactory(course=esk_course, first_day=TUESDAY, last_day=date(2026, 3, 16))
    # when
    response = desk_api.post("/api/sessions/series/", {
        "course": esk_course.pk, "chair": chair.pk, "first_start": "2026-03-05T09:00", "weekdays": [0, 3]},
        format="json")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "series_conflict"
    flagged = [occurrence["start"][:10] for occurrence in response.json()["occurrences"]
               if any(problem["code"] == "no_authorisation" for problem in occurrence["problems"])]
    assert flagged == ["2026-03-19", "2026-03-23", "2026-03-26", "2026-03-30"]


def test_the_protocol_says_whether_it_requires_authorisation(desk_api):
    body = desk_api.get("/api/protocols/").json()
    rows = body["results"] if isinstance(body, dict) else body
    protocols = {row["slug"]: row["requires_authorisation"] for row in rows}
    assert protocols["esketamine-trd"] is True
    assert protocols["ketamine-iv-series"] is False

