"""Freed-chair offers through the API (docs/API.md "Offers"), and marking a booking as wanting an earlier time.

Now is Monday 2 March 2026, 09:00 in New York (``site``, Midtown); ``other_site`` is Westside, Los Angeles.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from patients.models import PatientAccess
from scheduling.booking import services as booking
from scheduling.models import Offer, OfferState, Session
from tests.factories import ChairFactory, PatientFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

WEDNESDAY, THURSDAY = date(2026, 3, 4), date(2026, 3, 5)


def offer_of(chair, start: datetime, *, state: str = OfferState.SENT, patient=None, course=None,
             **fields) -> Offer:
    """An offer of ``chair`` at ``start`` (an esketamine session's 150 minutes) to a new patient's course."""
    course = course or TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"),
                                              patient=patient or PatientFactory())
    return Offer.objects.create(location=chair.location, chair=chair, start=start,
                                end=start + timedelta(minutes=150), patient=course.patient, course=course,
                                state=state, **fields)


def listed(api, **query) -> dict:
    response = api.get("/api/offers/", query)
    assert response.status_code == 200, response.json()
    return response.json()


def ids(api, **query) -> list[int]:
    return [row["id"] for row in listed(api, **query)["results"]]


def test_an_offer_lists_its_freed_time_patient_and_outcome(desk_api, site, chair, book, now):
    # given an offer a patient took: the session their YES booked
    start = local(site, WEDNESDAY, 10)
    session = book(chair, start)
    offer = offer_of(chair, start, state=OfferState.TAKEN, course=session.course, sent_at=now,
                     answered_at=now + timedelta(minutes=4), ended_at=now + timedelta(minutes=4),
                     ended_reason="taken by the patient's reply", session=session)
    # when the desk lists the offers
    [row] = listed(desk_api)["results"]
    # then
    assert (row["id"], row["state"], row["label"], row["session"]) == (offer.pk, "taken", "Taken", session.pk)
    assert row["freed_time"] == {
        "chair": chair.pk, "chair_name": "Chair 1", "location": site.pk, "location_name": "Midtown",
        "time_zone": "America/New_York", "start": "2026-03-04T15:00:00Z", "end": "2026-03-04T17:30:00Z",
        "start_local": "2026-03-04T10:00:00-05:00", "freed_from": None}
    assert row["patient"] == {"id": session.patient_id, "name": session.patient.display_name}
    assert row["course"] == session.course_id
    assert (row["sent_at"], row["answered_at"], row["ended_at"]) == (
        "2026-03-02T14:00:00Z", "2026-03-02T14:04:00Z", "2026-03-02T14:04:00Z")
    assert row["ended_reason"] == "taken by the patient's reply"


def test_the_list_is_in_order_of_the_freed_times(desk_api, site, chair, chair2, now):
    later = offer_of(chair, local(site, THURSDAY, 9))
    earlier = offer_of(chair2, local(site, WEDNESDAY, 13))
    earliest = offer_of(chair, local(site, WEDNESDAY, 10))
    assert ids(desk_api) == [earliest.pk, earlier.pk, later.pk]


def test_filters_by_site_chair_state_patient_and_course(desk_api, site, other_site, chair, chair2, now):
    west_chair = ChairFactory(location=other_site, serves_esketamine=True)
    taken = offer_of(chair, local(site, WEDNESDAY, 10), state=OfferState.TAKEN)
    expired = offer_of(chair2, local(site, WEDNESDAY, 10), state=OfferState.EXPIRED)
    west = offer_of(west_chair, local(other_site, WEDNESDAY, 10), course=taken.course)
    assert ids(desk_api, location=site.pk) == [taken.pk, expired.pk]
    assert ids(desk_api, location=other_site.pk) == [west.pk]
    assert ids(desk_api, chair=chair2.pk) == [expired.pk]
    assert ids(desk_api, state="expired") == [expired.pk]
    assert set(ids(desk_api, state=["taken", "sent"])) == {taken.pk, west.pk}
    assert set(ids(desk_api, patient=taken.patient_id)) == {taken.pk, west.pk}
    assert ids(desk_api, course=expired.course_id) == [expired.pk]


def test_a_day_is_the_sites_own_day(desk_api, site, other_site, chair, now):
    west_chair = ChairFactory(location=other_site, serves_esketamine=True)
    # given an evening offer in Los Angeles (Thursday in UTC) and a morning one in New York
    evening = offer_of(west_chair, local(other_site, WEDNESDAY, 17, 30))
    morning = offer_of(chair, local(site, THURSDAY, 9))
    assert evening.start.astimezone(UTC).date() == THURSDAY
    # then each is on its own site's day
    assert ids(desk_api, day="2026-03-04") == [evening.pk]
    assert ids(desk_api, day="2026-03-05") == [morning.pk]
    assert ids(desk_api, date_from="2026-03-05") == [morning.pk]
    assert ids(desk_api, date_to="2026-03-04") == [evening.pk]
    assert ids(desk_api, date_from="2026-03-04", date_to="2026-03-05") == [evening.pk, morning.pk]
    assert ids(desk_api, date_from="2026-03-06", date_to="2026-03-09") == []


def test_the_list_is_paginated_like_the_other_lists(desk_api, site, chair, now):
    offers = [offer_of(chair, local(site, WEDNESDAY, hour)) for hour in (9, 12, 15)]
    first = listed(desk_api, page_size=2)
    assert first["count"] == 3 and first["next"] and first["previous"] is None
    assert [row["id"] for row in first["results"]] == [offers[0].pk, offers[1].pk]
    second = listed(desk_api, page_size=2, page=2)
    assert [row["id"] for row in second["results"]] == [offers[2].pk]
    assert desk_api.get("/api/offers/", {"page": 3, "page_size": 2}).status_code == 404


@pytest.mark.parametrize(("query", "field"), [
    ({"day": "4 March"}, "day"),
    ({"date_from": "2026-02-30"}, "date_from"),
    ({"state": "booked"}, "state"),
    ({"location": "999999"}, "location"),
    ({"patient": "abc"}, "patient"),
    ({"day": "2026-03-04", "date_from": "2026-03-01"}, "day"),
    ({"date_from": "2026-03-05", "date_to": "2026-03-04"}, "date_to"),
])
def test_a_bad_filter_is_refused_with_its_field(desk_api, query, field, now):
    response = desk_api.get("/api/offers/", query)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_one_offer_reads_as_in_the_list_and_logs_the_patient_record_read(desk_api, front_desk, site, chair, now):
    offer = offer_of(chair, local(site, WEDNESDAY, 10))
    response = desk_api.get(f"/api/offers/{offer.pk}/")
    assert response.status_code == 200
    assert response.json() == listed(desk_api)["results"][0]
    assert PatientAccess.objects.filter(patient=offer.patient, user=front_desk).count() == 1
    assert desk_api.get("/api/offers/999999/").status_code == 404


def test_offers_are_read_only(manager_api, site, chair, now):
    offer = offer_of(chair, local(site, WEDNESDAY, 10))
    assert manager_api.post("/api/offers/", {}).status_code == 405
    assert manager_api.patch(f"/api/offers/{offer.pk}/", {"state": "void"}).status_code == 405
    assert manager_api.delete(f"/api/offers/{offer.pk}/").status_code == 405
    offer.refresh_from_db()
    assert offer.state == OfferState.SENT


# --- wanting an earlier time -------------------------------------------------------------------------------


def earlier(api, session, wanted):
    return api.post(f"/api/sessions/{session.pk}/earlier-wanted/", {"wanted": wanted})


def test_marking_keeps_the_first_request_and_unmarking_clears_it(desk_api, clinician_api, site, chair, book,
                                                                 clock, now):
    session = book(chair, local(site, THURSDAY, 10))
    # when the desk marks it
    response = earlier(desk_api, session, True)
    assert response.status_code == 200, response.json()
    assert response.json() == {"session": session.pk, "earlier_wanted_at": "2026-03-02T14:00:00Z"}
    # and a clinician marks it again an hour later: the first request keeps its place
    clock.shift(timedelta(hours=1))
    assert earlier(clinician_api, session, True).json()["earlier_wanted_at"] == "2026-03-02T14:00:00Z"
    session.refresh_from_db()
    assert session.earlier_wanted_at == now
    # when it is unmarked
    assert earlier(desk_api, session, False).json()["earlier_wanted_at"] is None
    session.refresh_from_db()
    assert session.earlier_wanted_at is None


def test_only_an_upcoming_booking_can_want_an_earlier_time(desk_api, front_desk, site, chair, book, now):
    session = book(chair, local(site, THURSDAY, 10))
    booking.cancel_session(by=front_desk, session=session, reason="Unwell")
    response = earlier(desk_api, session, True)
    assert response.status_code == 409
    assert response.json()["code"] == "session_not_upcoming"
    assert Session.objects.get(pk=session.pk).earlier_wanted_at is None


@pytest.mark.parametrize("body", [{}, {"wanted": "perhaps"}, {"wanted": None}])
def test_a_missing_or_unclear_answer_is_refused(desk_api, site, chair, book, body, now):
    session = book(chair, local(site, THURSDAY, 10))
    response = desk_api.post(f"/api/sessions/{session.pk}/earlier-wanted/", body, format="json")
    assert response.status_code == 400
    assert "wanted" in response.json()["fields"]


def test_an_unknown_session_is_not_found(desk_api, now):
    assert desk_api.post("/api/sessions/999999/earlier-wanted/", {"wanted": True}).status_code == 404


def test_a_page_costs_the_same_statements_however_many_offers_it_holds(desk_api, site, chair, chair2, now,
                                                                       django_assert_max_num_queries,
                                                                       django_assert_num_queries):
    offer_of(chair, local(site, WEDNESDAY, 10))
    listed(desk_api)  # the first request also fills caches the later ones reuse
    with django_assert_max_num_queries(2) as with_one:
        listed(desk_api)
    for hour in (9, 12, 15):
        offer_of(chair2, local(site, WEDNESDAY, hour))
    with django_assert_num_queries(len(with_one)):
        assert len(listed(desk_api)["results"]) == 4
