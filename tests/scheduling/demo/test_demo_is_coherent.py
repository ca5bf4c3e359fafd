"""The demo clinic agrees with itself and with the clock, whatever the hour `make run` loads it.

Loaded once per moment (New York time; Westside in Los Angeles is three hours behind):
a Wednesday in the small hours, mid-morning, mid-afternoon, evening and late at night,
a Saturday (short hours) and a Sunday (closed). Each rule is checked over the whole data set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest

from scheduling.models import Location, OpeningHours, Session
from tests.scheduling.demo import coherence
from tests.scheduling.demo.conftest import new_york

WEDNESDAY, SATURDAY, SUNDAY = date(2026, 3, 11), date(2026, 3, 14), date(2026, 3, 15)
MOMENTS = {
    "wed-0300": new_york(WEDNESDAY, time(3)),
    "wed-1000": new_york(WEDNESDAY, time(10)),
    "wed-1530": new_york(WEDNESDAY, time(15, 30)),
    "wed-2000": new_york(WEDNESDAY, time(20)),
    "wed-2330": new_york(WEDNESDAY, time(23, 30)),
    "sat-1230": new_york(SATURDAY, time(12, 30)),
    "sun-1000": new_york(SUNDAY, time(10)),
}

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]


@dataclass(frozen=True)
class Demo:
    now: datetime
    printed: str


@pytest.fixture(scope="module", params=list(MOMENTS), ids=list(MOMENTS))
def demo(request, demo_world) -> Iterator[Demo]:
    now = MOMENTS[request.param]
    with demo_world.at(now) as printed:
        yield Demo(now=now, printed=printed)


def test_every_session_lies_inside_its_sites_opening_hours(demo):
    assert coherence.outside_opening_hours() == []


def test_no_two_sessions_hold_a_chair_at_once(demo):
    assert coherence.chairs_shared() == []


def test_sessions_are_given_under_way_or_to_come_as_the_hour_says(demo):
    assert coherence.behind_the_clock(demo.now) == []


def test_a_site_open_for_an_hour_or_more_has_patients_in_its_chairs(demo):
    # given the sites open at this moment, and open for an hour at least
    opening = {(row.location_id, row.weekday): row.opens for row in OpeningHours.objects.all()}
    for site in Location.objects.all():
        local = site.local(demo.now)
        opens = opening.get((site.pk, local.weekday()))
        if not coherence.is_open(site, demo.now) or local - site.at(local.date(), opens) < timedelta(hours=1):
            continue
        # then some of its patients are checked in or in treatment: the board shows them at their steps
        assert Session.objects.filter(location=site, status__in=coherence.UNDER_WAY).exists(), site.name


def test_session_numbers_rise_with_the_dates_one_visit_a_day(demo):
    assert coherence.numbers_out_of_order() == []


def test_no_visit_is_booked_or_under_way_on_a_course_that_is_not_active(demo):
    assert coherence.active_on_ended_courses(demo.now) == []


def test_names_are_unique_but_for_the_documented_namesakes(demo):
    assert coherence.namesakes() == []


def test_the_worklist_has_every_kind_of_item_the_desk_works(demo):
    assert coherence.missing_worklist_kinds() == []


def test_texts_agree_with_the_visits_they_name_and_the_outbox(demo):
    assert coherence.texts_disagreeing(demo.now) == []
    assert Session.objects.filter(messages__isnull=False).exists()


def test_phones_are_tidy_national_numbers_and_consents_have_methods(demo):
    assert coherence.untidy_contacts(demo.now) == []
