"""The desk's offers page (`/offers/`): freed times grouped, taken first, times in the site's zone, the result."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from scheduling.booking import services as booking
from scheduling.models import Offer, OfferState
from tests.factories import PatientFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import local

TUESDAY, THURSDAY = date(2026, 3, 3), date(2026, 3, 5)


def offer(chair, start, state, *, name: str, freed_from=None, **fields) -> Offer:
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"),
                                    patient=PatientFactory(first_name=name, last_name="Test"))
    return Offer.objects.create(location=chair.location, chair=chair, start=start, end=start + timedelta(minutes=150),
                                patient=course.patient, course=course, state=state, freed_from=freed_from, **fields)


@pytest.fixture
def offers(site, chair, chair2, now):
    """Tuesday: 11:00 offered to Ava (expired) and Ben (taken); 14:00 on chair 2 offered to Cal (sent).
    Thursday 10:00 offered to Dee (void)."""
    eleven, two = local(site, TUESDAY, 11), local(site, TUESDAY, 14)
    sent = now + timedelta(minutes=5)  # 09:05 in New York
    return {
        "ava": offer(chair, eleven, OfferState.EXPIRED, name="Ava", sent_at=sent, ended_at=sent + timedelta(minutes=30),
                     ended_reason="No answer in 30 minutes."),
        "ben": offer(chair, eleven, OfferState.TAKEN, name="Ben", sent_at=sent, answered_at=sent + timedelta(minutes=7),
                     ended_at=sent + timedelta(minutes=7)),
        "cal": offer(chair2, two, OfferState.SENT, name="Cal", sent_at=sent),
        "dee": offer(chair, local(site, THURSDAY, 10), OfferState.VOID, name="Dee", ended_reason="Booked by staff."),
    }


def page(desk, site, **query):
    response = desk.get(reverse("offers"), {"location": site.pk, **query})
    assert response.status_code == 200
    return response


def test_a_day_groups_offers_by_freed_time_taken_first_in_the_sites_zone(desk, site, offers):
    response = page(desk, site, day="2026-03-03")
    groups = response.context["page"].object_list
    assert [(group.start.hour, [o.patient.first_name for o in group.offers]) for group in groups] == [
        (16, ["Ava", "Ben"]), (19, ["Cal"])]  # UTC: 11:00 and 14:00 in New York; the taken time first
    html = response.content.decode()
    assert html.count('data-testid="call-if-needed"') == 1
    assert "Tue Mar 3, 11:00–13:30 · Chair 1" in html
    assert "09:05" in html and "09:12" in html and "09:35" in html  # sent, answered, ended: New York's clock
    assert "Refilled: booked by Ben" in html and "Still being offered" in html
    assert "No answer in 30 minutes." in html and "Dee" not in html


def test_a_week_holds_every_day_of_it_and_a_day_only_its_own(desk, site, offers):
    week = page(desk, site, day="2026-03-04", span="week").content.decode()
    assert "Dee" in week and "Ben" in week and "Mar 2 – Sun Mar 8" in week
    thursday = page(desk, site, day="2026-03-05").content.decode()
    assert "Dee" in thursday and "Ben" not in thursday and "Not refilled" in thursday


def test_a_freed_time_booked_by_the_desk_says_so(desk, site, chair, book, offers):
    book(chair, local(site, THURSDAY, 10))
    assert "Booked by the desk for" in page(desk, site, day="2026-03-05").content.decode()


def test_bad_questions_get_today_or_a_404_never_a_500(desk, site, offers, now):
    today = page(desk, site, day="2026-02-31", span="year", page="x")
    assert today.context["day"] == date(2026, 3, 2) and today.context["span"] == "day"
    assert 'data-testid="offers-empty"' in today.content.decode()
    assert desk.get(reverse("offers"), {"location": 999999}).status_code == 404
    assert page(desk, site, day="2026-03-03", page="99").context["page"].number == 1


def test_many_freed_times_are_paginated(desk, site, chair, now):
    for minute in range(0, 21):
        offer(chair, local(site, TUESDAY, 8) + timedelta(minutes=minute * 20), OfferState.EXPIRED, name=f"P{minute}")
    first = page(desk, site, day="2026-03-03")
    assert len(first.context["page"].object_list) == 20 and 'rel="next"' in first.content.decode()
    assert len(page(desk, site, day="2026-03-03", page="2").context["page"].object_list) == 1


def test_the_panel_marks_and_unmarks_wanting_an_earlier_time(desk, site, chair, book, now):
    session = book(chair, local(site, THURSDAY, 10))
    address = reverse("session-earlier-wanted", args=[session.pk])
    marked = desk.post(address, {"wanted": "yes"}, HTTP_HX_REQUEST="true")
    assert marked.status_code == 200 and 'data-testid="panel-earlier-wanted"' in marked.content.decode()
    session.refresh_from_db()
    assert session.earlier_wanted_at == now
    desk.post(address, {"wanted": "yes"}, HTTP_HX_REQUEST="true")  # twice: the first request's time is kept
    session.refresh_from_db()
    assert session.earlier_wanted_at == now
    assert desk.post(address, {"wanted": "maybe"}, HTTP_HX_REQUEST="true").status_code == 400
    unmarked = desk.post(address, {"wanted": "no"}, HTTP_HX_REQUEST="true")
    session.refresh_from_db()
    assert session.earlier_wanted_at is None and "panel-earlier-wanted" not in unmarked.content.decode()


def test_a_cancelled_session_cannot_want_an_earlier_time(desk, site, chair, book, front_desk, now):
    session = booking.cancel_session(by=front_desk, session=book(chair, local(site, THURSDAY, 10)), reason="Ill")
    refused = desk.post(reverse("session-earlier-wanted", args=[session.pk]), {"wanted": "yes"},
                        HTTP_HX_REQUEST="true")
    assert refused.status_code == 409 and "Only an upcoming booking" in refused.content.decode()
    session.refresh_from_db()
    assert session.earlier_wanted_at is None


def test_the_manager_turns_a_sites_offers_off_and_on_with_its_settings(client, manager, front_desk, site):
    address = reverse("site-settings", args=[site.pk])
    settings = {"name": site.name, "time_zone": site.time_zone, "address": site.address, "phone": site.phone,
                "turnover_minutes": str(site.turnover_minutes), "rems_certified": "on", "active": "on",
                "max_in_treatment_per_clinician": str(site.max_in_treatment_per_clinician)}
    client.force_login(front_desk)
    assert client.post(address, settings).status_code == 403
    client.force_login(manager)
    page_html = client.get(reverse("site-detail", args=[site.pk])).content.decode()
    assert 'name="offers_enabled" id="site-offers" checked' in page_html
    assert client.post(address, settings).status_code == 302  # the box unticked
    site.refresh_from_db()
    assert site.offers_enabled is False
    client.post(address, {**settings, "offers_enabled": "on"})
    site.refresh_from_db()
    assert site.offers_enabled is True


def test_the_board_marks_each_offered_freed_time_and_links_to_its_day(desk, site, offers):
    html = desk.get(reverse("board", kwargs={"location_id": site.pk, "day": TUESDAY})).content.decode()
    assert html.count('data-testid="board-offer-marker"') == 2
    assert "2 offers</span> 11:00 · Chair 1 · 1 expired, 1 taken" in html
    assert f'?location={site.pk}&amp;span=day&amp;day=2026-03-03' in html


def test_the_weeks_numbers_sit_above_the_list_and_a_manager_gets_the_dashboards_week(client, desk, manager, site,
                                                                                       offers):
    # Freed: chair 1 Tuesday 11:00, chair 2 Tuesday 14:00, chair 1 Thursday 10:00, 2.5 h each = 7.5 h; Ben's YES
    # refilled 2.5 h (33.3%), 7 minutes after his text; Ava's, Ben's and Cal's texts were sent, Dee's never.
    response = page(desk, site, day="2026-03-03")
    assert {key: response.context["numbers"][key] for key in
            ("freed_hours", "refilled_hours", "refill_rate", "offers_sent", "taken", "median_minutes")} == {
        "freed_hours": 7.5, "refilled_hours": 2.5, "refill_rate": 33.3, "offers_sent": 3, "taken": 1,
        "median_minutes": 7.0}
    html = response.content.decode()
    assert "Mon Mar 2 – Sun Mar 8" in html and ">7.5 h<" in html and ">2.5 h (33.3%)<" in html
    assert ">7 min, of 1 taken<" in html
    assert 'data-testid="offer-numbers-dashboard"' not in html  # the dashboard is the managers'
    client.force_login(manager)
    link = reverse("numbers") + f"?location={site.pk}&amp;period=week&amp;anchor=2026-03-02"
    assert link in page(client, site, day="2026-03-05").content.decode()


def test_a_week_with_nothing_freed_says_no_data_not_zero_minutes(desk, site, offers):
    html = page(desk, site, day="2026-03-10").content.decode()
    assert ">0.0 h<" in html and ">no data<" in html and "%)" not in html


def test_a_moment_on_another_day_than_the_freed_time_shows_its_day(desk, site, chair, offers, now):
    # given Monday's offer of Monday 15:00, sent and answered the same day (Tuesday's were sent on Monday)
    offer(chair, local(site, date(2026, 3, 2), 15), OfferState.TAKEN, name="Eve", sent_at=now + timedelta(minutes=5),
          answered_at=now + timedelta(minutes=9), ended_at=now + timedelta(minutes=9))
    # then Tuesday's times give Monday's day, so a text sent the day before never reads as sent after the start
    tuesday = page(desk, site, day="2026-03-03").content.decode()
    assert "<td>Mon Mar 2, 09:05</td>" in tuesday and "<td>Mon Mar 2, 09:12</td>" in tuesday
    assert "<td>09:05</td>" not in tuesday
    # and Monday's own, the time alone
    monday = page(desk, site, day="2026-03-02").content.decode()
    assert "<td>09:05</td>" in monday and "<td>09:09</td>" in monday and "Mon Mar 2, 09:05" not in monday


def test_an_empty_day_or_week_points_to_the_next_day_offered(desk, site, offers):
    # given offers on Tuesday and Thursday: an empty Monday points to Tuesday, an empty Wednesday to Thursday
    monday = page(desk, site, day="2026-03-02")
    assert monday.context["next_offered"] == TUESDAY
    assert f'href="?location={site.pk}&amp;span=day&amp;day=2026-03-03"' in monday.content.decode()
    assert "The next time offered: Tue Mar 3" in monday.content.decode()
    assert page(desk, site, day="2026-03-04").context["next_offered"] == THURSDAY
    # and a day or a week with offers, or with none after it, points nowhere
    assert page(desk, site, day="2026-03-03").context["next_offered"] is None
    assert 'data-testid="offers-next"' not in page(desk, site, day="2026-03-06").content.decode()
    assert page(desk, site, day="2026-03-09", span="week").context["next_offered"] is None
