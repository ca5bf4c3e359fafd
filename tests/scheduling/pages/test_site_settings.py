"""The manager's sites: settings, chairs, hours and closures on the site's page, with the API's rules.

Now is Monday 2 March 2026, 09:00 in New York; ``esk_session`` is booked on Chair 1 at Midtown
for Tuesday 3 March at 09:00 (tests/scheduling/conftest.py).
"""

from __future__ import annotations

from datetime import date, time

import pytest
from django.urls import reverse

from scheduling.models import Chair, Closure, Location, OpeningHours
from tests.factories import ChairFactory, ClosureFactory

pytestmark = pytest.mark.django_db

SETTINGS = {"name": "Lakeview", "time_zone": "America/Chicago", "address": "1 Lake St", "phone": "(312) 555-0100",
            "turnover_minutes": "20", "max_in_treatment_per_clinician": "3", "rems_certified": "on", "active": "on"}
WEEK_8_TO_6 = {**{f"opens-{d}": "08:00" for d in range(6)}, **{f"closes-{d}": "18:00" for d in range(6)},
               "closed-6": "on"}


@pytest.fixture
def office(client, manager):
    """The manager's browser."""
    client.force_login(manager)
    return client


def settings_of(site: Location, **changes) -> dict:
    data = {"name": site.name, "time_zone": site.time_zone, "address": site.address, "phone": site.phone,
            "turnover_minutes": str(site.turnover_minutes),
            "max_in_treatment_per_clinician": str(site.max_in_treatment_per_clinician),
            "rems_certified": "on", "active": "on"}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def assert_error_beside(response, field_id: str, words: str) -> None:
    """The refusal's words sit in the field's error, which the field names with aria-describedby."""
    page = response.content.decode()
    assert f'id="{field_id}-error"' in page, page[:3000]
    assert f'aria-describedby="{field_id}-error"' in page
    error = page.split(f'id="{field_id}-error">', 1)[1].split("</span>", 1)[0]
    assert words in error, error


# -- the list and a new site ------------------------------------------------------------------------------


def test_the_site_list_shows_each_site_with_its_chairs_in_service(office, site, chair, chair2, other_site):
    # given Chair 2 out of service
    chair2.active = False
    chair2.save()
    # when
    response = office.get(reverse("site-list"))
    # then
    assert response.status_code == 200
    rows = [row.split("</tr>")[0] for row in response.content.decode().split('data-testid="site-row"')[1:]]
    assert ["Midtown" in rows[0], "1 <span class=\"muted\">of 2</span>" in rows[0]] == [True, True]
    assert "Westside" in rows[1] and "Not certified" in rows[1]


def test_a_manager_adds_a_site_and_lands_on_its_page(office):
    # when
    response = office.post(reverse("site-new"), SETTINGS)
    # then
    site = Location.objects.get(name="Lakeview")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('site-detail', args=[site.pk])}?done=created"
    assert (site.time_zone, site.phone, site.turnover_minutes, site.max_in_treatment_per_clinician,
            site.rems_certified, site.active) == ("America/Chicago", "+13125550100", 20, 3, True, True)


def test_a_new_site_unticked_is_not_rems_certified(office):
    office.post(reverse("site-new"), {name: value for name, value in SETTINGS.items() if name != "rems_certified"})
    assert Location.objects.get(name="Lakeview").rems_certified is False


@pytest.mark.parametrize(("field", "value", "field_id", "words"), [
    ("time_zone", "Central Time", "site-time-zone", "is not an IANA time zone"),
    ("max_in_treatment_per_clinician", "0", "site-capacity", "A clinician can look after at least 1 patient at once."),
    ("name", "Ketamine Lakeview", "site-name", "ketamine"),
    ("phone", "12", "site-phone", "not a valid phone number"),
    ("turnover_minutes", "-5", "site-turnover", "greater than or equal to 0"),
])
def test_a_new_site_with_a_refused_value_is_a_400_with_the_words_beside_the_field(office, field, value, field_id,
                                                                                   words):
    # when
    response = office.post(reverse("site-new"), {**SETTINGS, field: value})
    # then
    assert response.status_code == 400
    assert_error_beside(response, field_id, words)
    assert 'value="1 Lake St"' in response.content.decode() or "1 Lake St</textarea>" in response.content.decode()
    assert not Location.objects.exists()


def test_a_site_name_another_site_has_is_a_400(office, site):
    response = office.post(reverse("site-new"), {**SETTINGS, "name": "Midtown"})
    assert response.status_code == 400
    assert_error_beside(response, "site-name", "already exists")


# -- a site's settings ------------------------------------------------------------------------------------


def test_the_site_page_shows_its_settings_chairs_hours_and_closures(office, site, chair, closure, now):
    # when
    response = office.get(reverse("site-detail", args=[site.pk]))
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert '<option value="America/New_York" selected>' in page
    assert 'data-chair="Chair 1" data-active="true"' in page
    assert 'id="opens-0" name="opens-0" value="08:00"' in page
    assert 'name="closed-6" id="closed-6" checked' in page
    assert "Wed Mar 4, 2026</strong> · Staff training" in page


def test_a_manager_changes_a_sites_settings(office, site):
    # when
    response = office.post(reverse("site-settings", args=[site.pk]),
                           settings_of(site, turnover_minutes="30", max_in_treatment_per_clinician="2"))
    # then
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.turnover_minutes, site.max_in_treatment_per_clinician) == (30, 2)


def test_a_capacity_of_zero_is_a_400_with_the_apis_words_beside_the_field(office, site):
    # when
    response = office.post(reverse("site-settings", args=[site.pk]),
                           settings_of(site, max_in_treatment_per_clinician="0"))
    # then
    assert response.status_code == 400
    assert_error_beside(response, "site-capacity", "A clinician can look after at least 1 patient at once.")
    assert 'name="max_in_treatment_per_clinician" type="number" min="1" max="32767" inputmode="numeric" value="0"' in (
        response.content.decode())
    site.refresh_from_db()
    assert site.max_in_treatment_per_clinician == 4


def test_a_site_with_booked_sessions_is_not_made_inactive(office, site, esk_session):
    # when
    response = office.post(reverse("site-settings", args=[site.pk]), settings_of(site, active=None))
    # then
    assert response.status_code == 409
    assert_error_beside(response, "site-active", "1 booked session: move or cancel them first.")
    assert reverse("session-panel", args=[esk_session.pk]) in response.content.decode()
    site.refresh_from_db()
    assert site.active is True


def test_a_site_with_esketamine_booked_keeps_its_rems_certification(office, site, esk_session):
    response = office.post(reverse("site-settings", args=[site.pk]), settings_of(site, rems_certified=None))
    assert response.status_code == 409
    assert_error_beside(response, "site-rems", "REMS-certified setting")
    site.refresh_from_db()
    assert site.rems_certified is True


def test_a_site_with_sessions_keeps_its_time_zone(office, site, esk_session):
    response = office.post(reverse("site-settings", args=[site.pk]), settings_of(site, time_zone="America/Chicago"))
    assert response.status_code == 409
    assert_error_beside(response, "site-time-zone", "America/New_York")
    site.refresh_from_db()
    assert site.time_zone == "America/New_York"


def test_a_site_without_sessions_changes_its_time_zone(office, site):
    response = office.post(reverse("site-settings", args=[site.pk]), settings_of(site, time_zone="America/Chicago"))
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.time_zone == "America/Chicago"


# -- chairs -----------------------------------------------------------------------------------------------


def test_a_manager_adds_an_infusion_chair(office, site):
    # when
    response = office.post(reverse("site-chair-add", args=[site.pk]), {"name": " Infusion 2 ",
                                                                        "has_infusion_pump": "on"})
    # then
    assert response.status_code == 302
    chair = Chair.objects.get(location=site)
    assert (chair.name, chair.serves_esketamine, chair.has_infusion_pump, chair.active) == (
        "Infusion 2", False, True, True)


def test_a_chair_name_the_site_has_is_a_400_beside_the_field(office, site, chair):
    response = office.post(reverse("site-chair-add", args=[site.pk]), {"name": "chair 1", "serves_esketamine": "on"})
    assert response.status_code == 400
    assert_error_beside(response, "chair-new-name", "Midtown already has a chair called “chair 1”.")
    assert Chair.objects.filter(location=site).count() == 1


def test_a_manager_renames_a_chair_and_gives_it_a_pump(office, site, chair):
    response = office.post(reverse("site-chair-change", args=[site.pk, chair.pk]),
                           {"name": "Window chair", "serves_esketamine": "on", "has_infusion_pump": "on"})
    assert response.status_code == 302
    chair.refresh_from_db()
    assert (chair.name, chair.serves_esketamine, chair.has_infusion_pump, chair.active) == (
        "Window chair", True, True, True)


def test_a_chair_without_sessions_goes_out_of_service_and_back(office, site, chair):
    office.post(reverse("site-chair-service", args=[site.pk, chair.pk]), {"active": "0"})
    chair.refresh_from_db()
    assert chair.active is False
    office.post(reverse("site-chair-service", args=[site.pk, chair.pk]), {"active": "1"})
    chair.refresh_from_db()
    assert chair.active is True


def test_a_chair_with_a_booked_session_stays_in_service_and_the_session_is_listed(office, site, chair, esk_session):
    # when
    response = office.post(reverse("site-chair-service", args=[site.pk, chair.pk]), {"active": "0"})
    # then
    assert response.status_code == 409
    page = response.content.decode()
    assert_error_beside(response, f"chair-{chair.pk}-active", "Chair 1 has 1 booked session")
    assert "Tue Mar 3, 2026 09:00" in page
    assert esk_session.patient.display_name in page
    chair.refresh_from_db()
    assert chair.active is True


def test_a_chair_does_not_stop_serving_esketamine_booked_on_it(office, site, chair, esk_session):
    response = office.post(reverse("site-chair-change", args=[site.pk, chair.pk]),
                           {"name": "Chair 1", "has_infusion_pump": "on"})
    assert response.status_code == 409
    assert "would no longer serve the treatment of 1 booked session" in response.content.decode()
    chair.refresh_from_db()
    assert chair.serves_esketamine is True


def test_a_cancelled_session_does_not_hold_a_chair_in_service(office, site, chair, esk_session, manager):
    # given
    esk_session.cancel(by=manager, reason="Patient unwell")
    esk_session.save()
    # when
    office.post(reverse("site-chair-service", args=[site.pk, chair.pk]), {"active": "0"})
    # then
    chair.refresh_from_db()
    assert chair.active is False


def test_a_chair_of_another_site_is_not_found_here(office, site, other_site):
    elsewhere = ChairFactory(location=other_site)
    response = office.post(reverse("site-chair-service", args=[site.pk, elsewhere.pk]), {"active": "0"})
    assert response.status_code == 404


# -- opening hours ----------------------------------------------------------------------------------------


def hours_of(site: Location) -> dict[int, tuple[time, time]]:
    return {row.weekday: (row.opens, row.closes) for row in OpeningHours.objects.filter(location=site)}


def test_a_manager_opens_on_sunday_and_closes_on_saturday(office, site):
    # given
    week = {**WEEK_8_TO_6, "closed-5": "on", "opens-6": "10:00", "closes-6": "14:00"}
    week.pop("closed-6")
    # when
    response = office.post(reverse("site-hours", args=[site.pk]), week)
    # then
    assert response.status_code == 302
    hours = hours_of(site)
    assert (5 in hours, hours[6], hours[0]) == (False, (time(10), time(14)), (time(8), time(18)))


def test_hours_that_close_before_they_open_are_a_400_beside_the_day(office, site):
    response = office.post(reverse("site-hours", args=[site.pk]), {**WEEK_8_TO_6, "opens-2": "19:00"})
    assert response.status_code == 400
    assert_error_beside(response, "hours-2", "Opening time must be before closing time.")
    assert 'id="opens-2" name="opens-2" value="19:00"' in response.content.decode()
    assert hours_of(site)[2] == (time(8), time(18))


def test_a_day_without_times_nor_closed_is_a_400_naming_the_time(office, site):
    response = office.post(reverse("site-hours", args=[site.pk]), {**WEEK_8_TO_6, "closes-4": ""})
    assert response.status_code == 400
    assert_error_beside(response, "hours-4", "Closes:")


def test_hours_that_leave_a_booked_session_outside_are_a_409_listing_it(office, site, esk_session):
    # when Tuesday opens at 10:00, after the session's 09:00 start
    response = office.post(reverse("site-hours", args=[site.pk]), {**WEEK_8_TO_6, "opens-1": "10:00"})
    # then
    assert response.status_code == 409
    assert_error_beside(response, "hours-1", "The new hours would leave out 1 booked session")
    assert reverse("session-panel", args=[esk_session.pk]) in response.content.decode()
    assert hours_of(site)[1] == (time(8), time(18))


def test_hours_that_close_before_a_booked_session_ends_are_a_409(office, site, esk_session):
    # when Tuesday closes at 11:00, before the 150-minute session from 09:00 ends
    response = office.post(reverse("site-hours", args=[site.pk]), {**WEEK_8_TO_6, "closes-1": "11:00"})
    # then
    assert response.status_code == 409
    assert_error_beside(response, "hours-1", "The new hours would leave out 1 booked session")


def test_closing_a_weekday_with_a_booked_session_is_a_409(office, site, esk_session):
    response = office.post(reverse("site-hours", args=[site.pk]), {**WEEK_8_TO_6, "closed-1": "on"})
    assert response.status_code == 409
    assert 1 in hours_of(site)


def test_hours_changed_on_a_day_without_sessions_are_saved_beside_a_booked_tuesday(office, site, esk_session):
    response = office.post(reverse("site-hours", args=[site.pk]), {**WEEK_8_TO_6, "opens-3": "10:00"})
    assert response.status_code == 302
    assert hours_of(site)[3] == (time(10), time(18))


# -- closures ---------------------------------------------------------------------------------------------


def test_a_manager_closes_the_site_on_a_day_and_opens_it_again(office, site, now):
    # when
    response = office.post(reverse("site-closure-add", args=[site.pk]), {"date": "2026-03-20", "reason": "Snow"})
    # then
    assert response.status_code == 302
    closure = Closure.objects.get(location=site)
    assert (closure.date, closure.reason) == (date(2026, 3, 20), "Snow")
    # and when
    office.post(reverse("site-closure-remove", args=[site.pk, closure.pk]))
    assert not Closure.objects.filter(location=site).exists()


def test_a_closure_on_a_day_with_a_booked_session_is_a_409_listing_it(office, site, esk_session):
    response = office.post(reverse("site-closure-add", args=[site.pk]), {"date": "2026-03-03", "reason": "Flood"})
    assert response.status_code == 409
    assert_error_beside(response, "closure-date", "Midtown has, on Tue Mar 3, 1 booked session")
    page = response.content.decode()
    assert 'value="Flood"' in page and reverse("session-panel", args=[esk_session.pk]) in page
    assert not Closure.objects.exists()


def test_a_closure_in_the_past_is_a_400(office, site, now):
    response = office.post(reverse("site-closure-add", args=[site.pk]), {"date": "2026-03-01"})
    assert response.status_code == 400
    assert_error_beside(response, "closure-date", "Choose today or a later day.")


def test_a_day_already_closed_is_a_400(office, site, closure, now):
    response = office.post(reverse("site-closure-add", args=[site.pk]), {"date": "2026-03-04"})
    assert response.status_code == 400
    assert_error_beside(response, "closure-date", "already closed on Wed Mar 4")


def test_a_closure_date_that_is_not_a_date_is_a_400(office, site):
    response = office.post(reverse("site-closure-add", args=[site.pk]), {"date": "next week"})
    assert response.status_code == 400
    assert_error_beside(response, "closure-date", "Date has wrong format")


def test_a_closure_of_another_site_is_not_removed_here(office, site, other_site):
    closure = ClosureFactory(location=other_site, date=date(2026, 3, 20))
    response = office.post(reverse("site-closure-remove", args=[site.pk, closure.pk]))
    assert response.status_code == 404
    assert Closure.objects.filter(pk=closure.pk).exists()


# -- managers only ----------------------------------------------------------------------------------------


def routes(site: Location, chair: Chair, closure: Closure) -> list[tuple[str, str]]:
    return [("get", reverse("site-list")), ("get", reverse("site-new")), ("post", reverse("site-new")),
            ("get", reverse("site-detail", args=[site.pk])), ("post", reverse("site-settings", args=[site.pk])),
            ("post", reverse("site-chair-add", args=[site.pk])),
            ("post", reverse("site-chair-change", args=[site.pk, chair.pk])),
            ("post", reverse("site-chair-service", args=[site.pk, chair.pk])),
            ("post", reverse("site-hours", args=[site.pk])), ("post", reverse("site-closure-add", args=[site.pk])),
            ("post", reverse("site-closure-remove", args=[site.pk, closure.pk]))]


@pytest.mark.parametrize("role", ["front_desk", "clinician"])
def test_only_a_manager_opens_or_changes_the_sites(request, client, role, site, chair, closure):
    client.force_login(request.getfixturevalue(role))
    for method, url in routes(site, chair, closure):
        response = getattr(client, method)(url, {"active": "0", "name": "X", "date": "2026-03-20"})
        assert response.status_code == 403, (method, url)
    chair.refresh_from_db()
    assert (chair.active, chair.name, Closure.objects.count()) == (True, "Chair 1", 1)
