"""Every figure of the known week (tests/scheduling/reports/conftest.py), worked out by hand, to the unit."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from protocols.models import Phase
from scheduling.reports.dashboard import FIGURE_KEYS, clinic_numbers, figure_numbers
from scheduling.reports.period import period_from
from tests.factories import standard_protocol
from tests.scheduling.reports.conftest import NOW, WEEK_START

pytestmark = pytest.mark.django_db

WEEK = period_from(kind="week", anchor=WEEK_START, today=NOW.date())
ESK = "Esketamine for treatment-resistant depression"
IV = "IV ketamine: six infusions over 2-3 weeks, then monthly boosters"


@pytest.fixture(scope="module")
def numbers(known_week) -> dict:
    """The dashboard for the known week, all sites, asked on 2 March."""
    return clinic_numbers(period=WEEK, location_id=None, now=NOW)


@pytest.fixture(scope="module")
def westside_numbers(known_week) -> dict:
    return clinic_numbers(period=WEEK, location_id=known_week.westside.pk, now=NOW)


def figure(numbers: dict, key: str) -> dict:
    return next(found for found in numbers["figures"] if found["key"] == key)


def rows(numbers: dict, key: str, table: str) -> list[dict]:
    return next(found for found in figure(numbers, key)["tables"] if found["key"] == table)["rows"]


def headline(found: dict) -> tuple:
    return found["value"], found["previous"], found["numerator"], found["denominator"]


def test_the_dashboard_gives_the_week_the_week_before_and_every_figure_in_order(numbers):
    assert numbers["period"] == {"kind": "week", "start": "2026-02-09", "end": "2026-02-15",
                                 "label": "Week of 9 February 2026"}
    assert numbers["previous_period"]["start"] == "2026-02-02"
    assert numbers["previous_period"]["end"] == "2026-02-08"
    assert numbers["location"] is None
    assert [found["key"] for found in numbers["figures"]] == list(FIGURE_KEYS)
    assert all(found["definition"] for found in numbers["figures"])
    # JSON as it stands: plain numbers (no Decimal), strings, lists and dicts.
    assert json.loads(json.dumps(numbers)) == numbers


def test_chair_utilisation_counts_booked_minutes_within_opening_hours_over_open_chair_minutes(numbers):
    # Open: Midtown 4 days (Wednesday closed) x 8 h x 3 active chairs = 96 h; Westside 5 x 4 h x 1 = 20 h.
    # Booked: s1 150 min; s2 16:00-18:30 clipped at 17:00, 60; s3 90; s10 13:00-14:30 clipped at 14:00, 60;
    # s11 (booked, past) 90; s7 on the closed Wednesday 0; no-shows and cancels 0. 450 min = 7.5 h of 116 h.
    # The week before: p1 150 min of Midtown 120 h + Westside 20 h = 8400 min: 1.79%.
    assert headline(figure(numbers, "chair_utilisation")) == (6.5, 1.8, 7.5, 116.0)
    assert rows(numbers, "chair_utilisation", "by_site") == [
        {"site": "Midtown", "booked_hours": 5.0, "open_hours": 96.0, "utilisation": 5.2},  # 300 / 5760
        {"site": "Westside", "booked_hours": 2.5, "open_hours": 20.0, "utilisation": 12.5},  # 150 / 1200
    ]
    assert rows(numbers, "chair_utilisation", "by_chair_kind") == [
        {"kind": "Esketamine and IV", "booked_hours": 1.0, "open_hours": 32.0, "utilisation": 3.1},  # B1: s2
        {"kind": "Esketamine only", "booked_hours": 2.5, "open_hours": 32.0, "utilisation": 7.8},  # E1: s1
        # IV1 32 h and W1 20 h; s3 90 + s10 60 + s11 90 = 240 min of 3120
        {"kind": "IV only", "booked_hours": 4.0, "open_hours": 52.0, "utilisation": 7.7},
    ]


def test_the_heat_map_has_every_weekday_over_the_open_hours_with_each_cell_worked_out(numbers):
    heat = {(row["weekday"], row["hour"]): row for row in rows(numbers, "chair_utilisation", "by_weekday_hour")}
    # Hours 9 (Midtown opens) to 16 (Midtown's last hour), for all seven days.
    assert len(heat) == 7 * 8
    assert {hour for _, hour in heat} == set(range(9, 17))
    # Monday 09:00: Midtown's 3 chairs = 180 open minutes, s1 60 of them.
    assert heat[("Monday", 9)] == {"weekday": "Monday", "hour": 9, "booked_hours": 1.0, "open_hours": 3.0,
                                   "utilisation": 33.3}
    assert heat[("Monday", 16)]["utilisation"] == 33.3  # s2's one hour before closing
    # Tuesday 13:00: Midtown 180 + Westside 60 open; s10 60 (s4 was a no-show).
    assert heat[("Tuesday", 13)]["utilisation"] == 25.0
    assert heat[("Tuesday", 11)]["utilisation"] == 12.5  # s3's last 30 minutes of 240
    # Wednesday: Midtown closed, Westside's 60 minutes open at 10:00, nothing booked; nothing open at 09:00.
    assert heat[("Wednesday", 10)]["open_hours"] == 1.0
    assert heat[("Wednesday", 10)]["utilisation"] == 0.0
    assert heat[("Wednesday", 9)]["utilisation"] is None
    assert heat[("Thursday", 10)]["utilisation"] == 25.0  # s11 at Westside, 10:00 Los Angeles
    assert heat[("Saturday", 12)] == {"weekday": "Saturday", "hour": 12, "booked_hours": 0.0, "open_hours": 0.0,
                                      "utilisation": None}


def test_no_shows_are_counted_among_the_sessions_that_came_due_by_local_weekday_and_hour(numbers):
    # Came due: s1 s2 s3 s4 s5 s7 s8 s10 s11 (s6 was cancelled ahead) = 9; no-shows s4 and s8 = 2.
    # The week before: p1 and p2, p2 a no-show.
    assert headline(figure(numbers, "no_shows")) == (22.2, 50.0, 2, 9)
    by_weekday = {row["weekday"]: row for row in rows(numbers, "no_shows", "by_weekday")}
    assert [row["weekday"] for row in rows(numbers, "no_shows", "by_weekday")][0] == "Monday"
    assert by_weekday["Monday"] == {"weekday": "Monday", "sessions": 2, "no_shows": 0, "rate": 0.0}
    assert by_weekday["Tuesday"] == {"weekday": "Tuesday", "sessions": 3, "no_shows": 1, "rate": 33.3}
    # s8 at 23:30 on Friday in New York is Saturday 04:30 in UTC: it counts on Friday, at 23:00.
    assert by_weekday["Friday"] == {"weekday": "Friday", "sessions": 1, "no_shows": 1, "rate": 100.0}
    assert by_weekday["Saturday"] == {"weekday": "Saturday", "sessions": 0, "no_shows": 0, "rate": None}
    assert rows(numbers, "no_shows", "by_hour") == [
        {"hour": 9, "sessions": 2, "no_shows": 0, "rate": 0.0},  # s1, s5
        {"hour": 10, "sessions": 3, "no_shows": 0, "rate": 0.0},  # s3, s7, s11 (10:00 in Los Angeles)
        {"hour": 13, "sessions": 2, "no_shows": 1, "rate": 50.0},  # s4, s10
        {"hour": 16, "sessions": 1, "no_shows": 0, "rate": 0.0},  # s2
        {"hour": 23, "sessions": 1, "no_shows": 1, "rate": 100.0},  # s8
    ]


def test_late_cancels_are_cancels_inside_24_hours_among_the_same_sessions(numbers):
    # s5 of the 9; none the week before (of 2).
    assert headline(figure(numbers, "late_cancels")) == (11.1, 0.0, 1, 9)
    by_weekday = {row["weekday"]: row for row in rows(numbers, "late_cancels", "by_weekday")}
    assert by_weekday["Thursday"] == {"weekday": "Thursday", "sessions": 2, "late_cancels": 1, "rate": 50.0}
    assert rows(numbers, "late_cancels", "by_hour")[0] == {"hour": 9, "sessions": 2, "late_cancels": 1,
                                                            "rate": 50.0}


def test_sessions_not_yet_due_wait_outside_the_rates_while_the_week_runs(known_week):
    # given: Thursday 12 February, 15:00 UTC (10:00 in New York, 07:00 in Los Angeles)
    thursday = datetime(2026, 2, 12, 15, 0, tzinfo=UTC)
    # when
    found = figure_numbers("no_shows", period=WEEK, location_id=None, now=thursday)
    # then: s1 s2 s3 s4 s10 s7, and s5 (09:00 New York): 7; s11 (10:00 Los Angeles) and s8 are still to come
    assert headline(found) == (14.3, 50.0, 1, 7)


def test_rems_forms_on_time_are_counted_in_the_sites_own_days_with_the_overdue_now(numbers):
    # s1 submitted on day 3; s2 on day 7 at 23:30 New York (the 17th in UTC): on time; s7 never, now past
    # day 7: 2 of 3. The week before: p1 submitted on day 10: 0 of 1.
    assert headline(figure(numbers, "rems_on_time")) == (66.7, 0.0, 2, 3)
    assert rows(numbers, "rems_on_time", "by_site") == [{"site": "Midtown", "forms": 3, "on_time": 2,
                                                          "rate": 66.7}]
    # Overdue now (2 March): s7 at Midtown, g1 (20 January) at Westside; a2 (26 February) is inside its 7 days.
    assert rows(numbers, "rems_on_time", "overdue_now") == [
        {"site": "Midtown", "overdue_now": 1}, {"site": "Westside", "overdue_now": 1},
        {"site": "All", "overdue_now": 2},
    ]


def test_outcomes_give_response_and_remission_at_weeks_4_and_8_with_the_patients_behind_them(numbers):
    found = figure(numbers, "outcomes")
    assert found["value"] is None
    assert rows(numbers, "outcomes", "response_remission") == [
        # C 20 -> 10 (the latest in 4-18 Feb; exactly half is a response), Z 12 -> 7; X has no reading and
        # Y's first PHQ-9 is inside the window (no baseline): 2 patients. The week before: F 14 -> 3.
        {"group": f"{ESK}, week 4", "protocol": ESK, "week": 4, "patients": 2, "responders": 1, "response": 50.0,
         "remitters": 0, "remission": 0.0, "previous_patients": 1, "previous_response": 100.0,
         "previous_remission": 100.0},
        # D 18 -> 4.
        {"group": f"{ESK}, week 8", "protocol": ESK, "week": 8, "patients": 1, "responders": 1, "response": 100.0,
         "remitters": 1, "remission": 100.0, "previous_patients": 0, "previous_response": None,
         "previous_remission": None},
        # E 16 -> 3.
        {"group": f"{IV}, week 4", "protocol": IV, "week": 4, "patients": 1, "responders": 1, "response": 100.0,
         "remitters": 1, "remission": 100.0, "previous_patients": 0, "previous_response": None,
         "previous_remission": None},
    ]


def test_sessions_by_phase_follow_each_sessions_number_in_its_course(numbers):
    esk_phases = list(Phase.objects.filter(protocol=standard_protocol("esketamine-trd")).order_by("order"))
    iv_phases = list(Phase.objects.filter(protocol=standard_protocol("ketamine-iv-series")).order_by("order"))
    # s1 (A #1) and s7 (D #1): induction; s2 (C #9 after 8 recorded): maintenance weeks 5-8;
    # s3 (B #1) and s10 (E #1): IV induction. The week before: p1 (F #1); C's recorded sessions are not counted.
    assert headline(figure(numbers, "sessions_by_phase"))[:2] == (5, 1)
    assert [(row["protocol"], row["phase"], row["sessions"], row["previous"])
            for row in rows(numbers, "sessions_by_phase", "by_phase")] == [
        (ESK, esk_phases[0].name, 2, 1), (ESK, esk_phases[1].name, 1, 0), (IV, iv_phases[0].name, 2, 0)]


def test_courses_started_completed_discontinued_and_lapsed_are_counted_by_their_days(numbers):
    # Started: A, B (H the week before). Completed: G at 05:00 UTC on the 16th, 21:00 on the 15th in Los
    # Angeles (G's site). Discontinued: H the week before. Lapsed: Z, found on Thursday.
    assert headline(figure(numbers, "courses"))[:2] == (2, 1)
    assert rows(numbers, "courses", "courses") == [
        {"measure": "Started", "count": 2, "previous": 1}, {"measure": "Completed", "count": 1, "previous": 0},
        {"measure": "Discontinued", "count": 0, "previous": 1}, {"measure": "Lapsed", "count": 1, "previous": 0},
    ]


def test_texts_count_sent_delivered_failed_replies_by_kind_and_every_opt_out(numbers):
    # Sent: s1's (delivered), s3's (failed), s10's at 23:30 on the 9th in Los Angeles (undelivered), A's desk
    # text at 22:00 on the 15th in New York (delivered); the new time the provider refused is not sent.
    assert headline(figure(numbers, "texts"))[:2] == (4, 1)
    assert rows(numbers, "texts", "texts") == [
        {"measure": "Sent", "count": 4, "previous": 1}, {"measure": "Delivered", "count": 2, "previous": 1},
        {"measure": "Failed", "count": 2, "previous": 0},
        # A opted out twice (in again between); B once the week before.
        {"measure": "Opt-outs", "count": 2, "previous": 1},
    ]
    assert {row["kind"]: (row["count"], row["previous"]) for row in rows(numbers, "texts", "replies")} == {
        "Confirmed (C or YES)": (2, 1), "Asked for a new time (R)": (1, 0), "Stop word": (1, 0),
        "START (opt in again)": (0, 0), "HELP": (1, 0),
        "Other, read by a person": (2, 0),  # "Can I come later?", "please stop"
    }


def test_one_site_counts_only_what_happened_there(westside_numbers, known_week):
    assert westside_numbers["location"] == {"id": known_week.westside.pk, "name": "Westside"}
    assert headline(figure(westside_numbers, "chair_utilisation")) == (12.5, 0.0, 2.5, 20.0)
    assert headline(figure(westside_numbers, "no_shows")) == (0.0, None, 0, 2)  # s10, s11
    assert headline(figure(westside_numbers, "rems_on_time")) == (None, None, 0, 0)
    assert rows(westside_numbers, "rems_on_time", "overdue_now") == [
        {"site": "Westside", "overdue_now": 1}, {"site": "All", "overdue_now": 1}]
    assert [row["patients"] for row in rows(westside_numbers, "outcomes", "response_remission")] == [1]  # E
    assert rows(westside_numbers, "courses", "courses")[1] == {"measure": "Completed", "count": 1, "previous": 0}
    assert rows(westside_numbers, "texts", "texts")[:3] == [
        {"measure": "Sent", "count": 1, "previous": 0}, {"measure": "Delivered", "count": 0, "previous": 0},
        {"measure": "Failed", "count": 1, "previous": 0}]


def test_the_dashboard_takes_a_fixed_number_of_queries_whatever_the_rows(known_week, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        clinic_numbers(period=WEEK, location_id=known_week.midtown.pk, now=NOW)
