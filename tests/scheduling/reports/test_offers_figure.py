"""Freed chair hours, the hours offers refilled and the median time to take, for a known week, to the unit.

The week is Monday 19 to Sunday 25 January 2026; the week before, 12 to 18 January. Local times; esketamine
times are 150 minutes (2.5 h), IV times 90 (1.5 h). "sent +12" is an offer sent and answered YES 12 minutes later.

Midtown (New York, offers on), chairs E1 and E2
  F1 Mon 19 10:00 E1 2.5 h  cancelled 2 days ahead; offers: taken (sent +12), void, expired     refilled
  F2 Tue 20 14:00 E2 1.5 h  a move (its mark); offers: expired, expired, planned then expired (never sent)
  F3 Wed 21 09:00 E1 2.5 h  cancelled a day ahead, nobody to offer it to
  -- Thu 22 13:00 E1        cancelled 2 hours ahead: too late to be freed
  F9 Thu 22 15:00 E2 1.5 h  a move nobody could be offered: only its mark
  F5 Fri 23 09:00 E2 2.5 h  cancelled 2 days ahead and offered: taken (sent +40), counted once     refilled
  F8 Tue 13 10:00 E1 2.5 h  (the week before) cancelled a day ahead, not offered
  -- Tue 20 09:00 E1        cancelled ahead but recorded from before the system: not counted
Westside (Los Angeles, offers on), chair W1
  F6 Sun 25 23:00 W1 1.5 h  a move (its mark); offers: taken (sent +5), expired   (Monday 07:00 UTC: this week)
  F7 Sun 18 22:00 W1 2.5 h  (the week before; Monday 19 06:00 UTC) a move; offer taken (sent +20)
Lakeside (Chicago, offers off), chair L1
  -- Mon 19 10:00 L1        cancelled 2 days ahead, and Tue 20 10:00 L1 moved (its mark): offers off, not counted
"""

from __future__ import annotations

import csv
import io
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import override_settings
from django.urls import reverse

from scheduling.models import Location, OfferState, SessionStatus
from scheduling.models.offers import FreedTimeMark
from scheduling.reports import offers
from scheduling.reports.dashboard import FIGURE_KEYS, clinic_numbers, figure_numbers
from scheduling.reports.period import Period, period_from
from tests.factories import (
    ChairFactory,
    LocationFactory,
    OfferFactory,
    SessionRowFactory,
    TreatmentCourseFactory,
    standard_protocol,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 2, 15, 0, tzinfo=UTC)
WEEK = period_from(kind="week", anchor=date(2026, 1, 19), today=NOW.date())
IV = "ketamine-iv-series"


def jan(day: int) -> date:
    return date(2026, 1, day)


@dataclass
class Sites:
    midtown: Location
    westside: Location
    lakeside: Location


def _build() -> Sites:
    midtown = LocationFactory(name="Midtown", time_zone="America/New_York")
    westside = LocationFactory(name="Westside", time_zone="America/Los_Angeles")
    lakeside = LocationFactory(name="Lakeside", time_zone="America/Chicago", offers_enabled=False)
    e1 = ChairFactory(location=midtown, name="E1")
    e2 = ChairFactory(location=midtown, name="E2", has_infusion_pump=True)
    w1 = ChairFactory(location=westside, name="W1", has_infusion_pump=True)
    l1 = ChairFactory(location=lakeside, name="L1")

    def cancelled(chair, day: date, hour: int, *, ahead: timedelta, **fields):
        start = chair.location.at(day, time(hour))
        return SessionRowFactory(chair=chair, start=start, status=SessionStatus.CANCELLED, cancelled_at=start - ahead,
                                 **fields)

    def offered(chair, day: date, hour: int, outcomes: list, *, slug="esketamine-trd", freed_from=None):
        start = chair.location.at(day, time(hour))
        minutes = standard_protocol(slug).chair_minutes
        for state, taken_after in outcomes:
            sent_at = start - timedelta(days=1) if state != "never_sent" else None
            OfferFactory(chair=chair, start=start, end=start + timedelta(minutes=minutes), freed_from=freed_from,
                         course=TreatmentCourseFactory(protocol=standard_protocol(slug)),
                         state=OfferState.EXPIRED if state == "never_sent" else state, sent_at=sent_at,
                         answered_at=sent_at + timedelta(minutes=taken_after) if taken_after is not None else None)

    def moved(chair, day: date, hour: int, minutes: int):
        start = chair.location.at(day, time(hour))
        FreedTimeMark.objects.create(location=chair.location, chair=chair, start=start,
                                     end=start + timedelta(minutes=minutes), freed_at=start - timedelta(days=1))

    two_days, a_day = timedelta(days=2), timedelta(days=1)
    f1 = cancelled(e1, jan(19), 10, ahead=two_days)
    offered(e1, jan(19), 10, [(OfferState.TAKEN, 12), (OfferState.VOID, None), (OfferState.EXPIRED, None)],
            freed_from=f1)
    moved(e2, jan(20), 14, 90)
    offered(e2, jan(20), 14, [(OfferState.EXPIRED, None), (OfferState.EXPIRED, None), ("never_sent", None)], slug=IV)
    moved(e2, jan(22), 15, 90)
    cancelled(e1, jan(21), 9, ahead=a_day)
    cancelled(e1, jan(22), 13, ahead=timedelta(hours=2))
    f5 = cancelled(e2, jan(23), 9, ahead=two_days)
    offered(e2, jan(23), 9, [(OfferState.TAKEN, 40)], freed_from=f5)
    cancelled(e1, jan(13), 10, ahead=a_day)
    cancelled(e1, jan(20), 9, ahead=a_day, recorded_history=True)
    moved(w1, jan(25), 23, 90)
    offered(w1, jan(25), 23, [(OfferState.TAKEN, 5), (OfferState.EXPIRED, None)], slug=IV)
    offered(w1, jan(18), 22, [(OfferState.TAKEN, 20)])
    cancelled(l1, jan(19), 10, ahead=two_days)
    moved(l1, jan(20), 10, 150)
    return Sites(midtown, westside, lakeside)


@pytest.fixture(scope="module")
def sites(django_db_setup, django_db_blocker) -> Sites:
    with ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        assert connection.settings_dict["NAME"].startswith("test_")
        stack.enter_context(override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]))
        stack.enter_context(transaction.atomic())
        yield _build()
        transaction.set_rollback(True)


def freed(period: Period = WEEK, location: Location | None = None) -> dict:
    return figure_numbers("freed_chairs", period=period, location_id=location.pk if location else None, now=NOW)


def rows(found: dict, key: str) -> list[dict]:
    return next(table for table in found["tables"] if table["key"] == key)["rows"]


def test_the_week_for_all_sites_counts_each_freed_time_once_and_the_refilled_hours(sites):
    found = freed()
    # Freed: F1 2.5 + F2 1.5 + F3 2.5 + F5 2.5 + F9 1.5 + F6 1.5 = 12.0 h; refilled F1, F5, F6 = 6.5 h: 54.2%.
    # The week before: F7 2.5 (refilled) + F8 2.5 = 5.0 h: 50.0%.
    assert (found["value"], found["previous"], found["numerator"], found["denominator"]) == (54.2, 50.0, 6.5, 12.0)
    assert found["unit"] == "percent" and "3 hours" in found["definition"]


def test_by_site_gives_hours_rate_offers_sent_taken_and_the_median_minutes_to_take(sites):
    assert rows(freed(), "by_site") == [
        # Sent: F1 3 + F2 2 (the third never sent) + F5 1 = 6; taken after 12 and 40 minutes: median 26.
        {"site": "Midtown", "freed_hours": 10.5, "refilled_hours": 5.0, "refill_rate": 47.6, "offers_sent": 6,
         "taken": 2, "median_minutes": 26.0},
        {"site": "Westside", "freed_hours": 1.5, "refilled_hours": 1.5, "refill_rate": 100.0, "offers_sent": 2,
         "taken": 1, "median_minutes": 5.0},
    ]  # Lakeside has offers off: its cancel frees nothing worth counting


def test_by_week_is_the_sites_local_week_so_sunday_night_in_los_angeles_stays_in_it(sites):
    assert rows(freed(), "by_week") == [
        # Taken after 5, 12 and 40 minutes: median 12.
        {"week": "2026-W04 (19 Jan)", "freed_hours": 12.0, "refilled_hours": 6.5, "refill_rate": 54.2,
         "offers_sent": 8, "taken": 3, "median_minutes": 12.0},
    ]


def test_a_month_lists_every_week_it_touches_with_no_data_where_nothing_was_freed(sites):
    january = period_from(kind="month", anchor=jan(1), today=NOW.date())
    found = freed(january)
    assert [(row["week"], row["freed_hours"], row["refilled_hours"], row["refill_rate"], row["median_minutes"])
            for row in rows(found, "by_week")] == [
        ("2026-W01 (29 Dec)", 0.0, 0.0, None, None),
        ("2026-W02 (5 Jan)", 0.0, 0.0, None, None),
        ("2026-W03 (12 Jan)", 5.0, 2.5, 50.0, 20.0),  # F7 (Sunday night in Los Angeles) and F8
        ("2026-W04 (19 Jan)", 12.0, 6.5, 54.2, 12.0),
        ("2026-W05 (26 Jan)", 0.0, 0.0, None, None),  # F6 is Monday 26 in UTC, Sunday 25 at its site
    ]
    assert (found["value"], found["numerator"], found["denominator"]) == (52.9, 9.0, 17.0)
    assert found["previous"] is None  # December: nothing freed, no rate (not 0)


def test_one_site_reads_its_own_times_and_the_week_before(sites):
    midtown = freed(location=sites.midtown)
    assert (midtown["value"], midtown["previous"], midtown["numerator"], midtown["denominator"]) == \
        (47.6, 0.0, 5.0, 10.5)  # the week before: F8 freed, not refilled
    westside = freed(location=sites.westside)
    assert (westside["value"], westside["previous"]) == (100.0, 100.0)
    assert [row["site"] for row in rows(westside, "by_site")] == ["Westside"]


def test_a_site_with_offers_off_has_no_data_never_zero(sites):
    found = freed(location=sites.lakeside)
    assert (found["value"], found["previous"], found["numerator"], found["denominator"]) == (None, None, None, None)
    assert rows(found, "by_site") == []
    assert rows(found, "by_week") == [{"week": "2026-W04 (19 Jan)", "freed_hours": 0.0, "refilled_hours": 0.0,
                                       "refill_rate": None, "offers_sent": 0, "taken": 0, "median_minutes": None}]


def test_the_offers_page_reads_the_sites_week(sites):
    assert offers.week_at_site(sites.midtown.pk, jan(21), now=NOW) == {
        "freed_hours": 10.5, "refilled_hours": 5.0, "refill_rate": 47.6, "offers_sent": 6, "taken": 2,
        "median_minutes": 26.0}


def test_the_dashboard_carries_the_figure_in_one_statement(sites, django_assert_num_queries):
    assert "freed_chairs" in FIGURE_KEYS
    assert list(offers.statements(offers.Scope(period=WEEK, location_id=None, now=NOW))) == ["freed"]
    with django_assert_num_queries(1):
        freed()
    numbers = clinic_numbers(period=WEEK, location_id=sites.westside.pk, now=NOW)
    assert next(found for found in numbers["figures"] if found["key"] == "freed_chairs")["value"] == 100.0


def test_the_api_and_the_csv_give_the_same_figure(sites, manager_api, client, manager):
    week = {"period": "week", "anchor": "2026-01-21"}
    response = manager_api.get("/api/reports/freed_chairs/", {**week, "location": sites.westside.pk})
    assert response.status_code == 200
    body = response.json()["figure"]
    assert (body["value"], body["numerator"], body["denominator"]) == (100.0, 1.5, 1.5)
    assert manager_api.get("/api/reports/freed_chairs/", {"period": "week", "anchor": "2026-01-99"}).status_code == 400

    client.force_login(manager)
    csv_response = client.get(reverse("numbers-csv", args=["freed_chairs", "by_site"]), week)
    assert csv_response.status_code == 200
    assert list(csv.reader(io.StringIO(csv_response.content.decode()))) == [
        ["Site", "Freed chair hours (hours)", "Refilled by offers (hours)", "Refill rate (%)", "Offers sent",
         "Offers taken", "Median minutes to take"],
        ["Midtown", "10.5", "5.0", "47.6", "6", "2", "26.0"],
        ["Westside", "1.5", "1.5", "100.0", "2", "1", "5.0"],
    ]
