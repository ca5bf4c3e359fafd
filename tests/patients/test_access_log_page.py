"""The managers' access log page (``/patients/access-log/``), its filters on the site's clock, and unusual access.

The site is Midtown, New York: 23:30 there on Monday 2 March 2026 is 04:30 UTC
on Tuesday, so a day typed in the filter must be New York's day, not UTC's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import hypothesis
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from clinic.roles import MANAGER
from patients import selectors
from patients.models import PatientAccess
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/patients/access-log/"
MONDAY_2330_NEW_YORK = datetime(2026, 3, 3, 4, 30, tzinfo=UTC)
TUESDAY_0015_NEW_YORK = datetime(2026, 3, 3, 5, 15, tzinfo=UTC)


@pytest.fixture
def boss(client, manager, site):
    """The manager, on Midtown's staff, signed in: her log reads on New York's clock."""
    site.staff.add(manager)
    client.force_login(manager)
    return client


@pytest.fixture
def opened():
    """``opened(patient, user, at, channel="web")`` writes one access log entry, as the system would."""

    def open_record(patient, user, at, channel=PatientAccess.Channel.WEB):
        return PatientAccess.objects.create(patient=patient, user=user, at=at, channel=channel,
                                            path=f"/patients/{patient.pk}/")

    return open_record


def entry_ids(response) -> list[int]:
    return [int(found) for found in re.findall(r'data-entry-id="(\d+)"', response.content.decode())]


def field_error(response, field: str) -> str:
    found = re.search(rf'id="access-{field}-error">([^<]*)<', response.content.decode())
    return found.group(1) if found else ""


# --- the log -----------------------------------------------------------------------------------------------


def test_the_log_lists_openings_newest_first_in_local_time_with_the_zones_abbreviation(boss, opened, front_desk,
                                                                                         clinician):
    # given
    patient = PatientFactory(first_name="Harriet", last_name="Okonkwo")
    older = opened(patient, front_desk, datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    newer = opened(patient, clinician, datetime(2026, 7, 1, 14, 0, tzinfo=UTC), channel=PatientAccess.Channel.API)
    # when
    response = boss.get(URL)
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert entry_ids(response) == [newer.pk, older.pk]
    assert "Mon Mar 2, 2026 09:00 EST" in body and "Wed Jul 1, 2026 10:00 EDT" in body
    assert "Okonkwo, Harriet" in body and patient.mrn in body


@pytest.mark.parametrize("query, expected", [
    ("from=2026-03-02&to=2026-03-02", ["monday_late"]),
    ("from=2026-03-03&to=2026-03-03", ["tuesday_early"]),
    ("to=2026-03-02", ["monday_late"]),
    ("from=2026-03-03", ["tuesday_early"]),
    ("from=2026-03-02", ["tuesday_early", "monday_late"]),
])
def test_days_are_whole_days_on_the_sites_clock(boss, opened, patient, front_desk, query, expected):
    # given 23:30 on Monday in New York (Tuesday in UTC) and 00:15 on Tuesday
    rows = {"monday_late": opened(patient, front_desk, MONDAY_2330_NEW_YORK),
            "tuesday_early": opened(patient, front_desk, TUESDAY_0015_NEW_YORK)}
    # when
    response = boss.get(f"{URL}?{query}")
    # then
    assert entry_ids(response) == [rows[name].pk for name in expected]


def test_the_day_the_clocks_go_forward_is_23_hours_long(boss, opened, patient, front_desk):
    # given 23:30 on Sunday 8 March 2026 in New York (EDT, 03:30 UTC on the 9th) and 23:30 the day before (EST)
    sunday_late = opened(patient, front_desk, datetime(2026, 3, 9, 3, 30, tzinfo=UTC))
    saturday_late = opened(patient, front_desk, datetime(2026, 3, 8, 4, 30, tzinfo=UTC))
    # when / then
    assert entry_ids(boss.get(f"{URL}?from=2026-03-08&to=2026-03-08")) == [sunday_late.pk]
    assert entry_ids(boss.get(f"{URL}?from=2026-03-07&to=2026-03-07")) == [saturday_late.pk]


def test_filters_by_user_channel_and_patient_combine(boss, opened, front_desk, clinician):
    # given
    harriet, jonah = PatientFactory(first_name="Harriet", last_name="Okonkwo"), PatientFactory(last_name="Pike")
    at = datetime(2026, 3, 2, 15, tzinfo=UTC)
    wanted = opened(harriet, front_desk, at)
    opened(harriet, front_desk, at, channel=PatientAccess.Channel.API)
    opened(harriet, clinician, at)
    opened(jonah, front_desk, at)
    # when / then
    assert entry_ids(boss.get(f"{URL}?user={front_desk.pk}&channel=web&patient={harriet.pk}")) == [wanted.pk]
    assert entry_ids(boss.get(f"{URL}?user={front_desk.pk}&channel=web&q=okonkwo")) == [wanted.pk]
    assert entry_ids(boss.get(f"{URL}?user={front_desk.pk}&channel=web&q={harriet.mrn}")) == [wanted.pk]


def test_a_patient_chosen_by_a_link_is_named_on_the_form_and_kept_when_filtering_again(boss, opened, front_desk):
    # given
    harriet = PatientFactory(first_name="Harriet", last_name="Okonkwo")
    opened(harriet, front_desk, datetime(2026, 3, 2, 15, tzinfo=UTC))
    # when
    body = boss.get(f"{URL}?patient={harriet.pk}").content.decode()
    # then
    assert "Harriet Okonkwo" in body
    assert f'<input type="hidden" name="patient" value="{harriet.pk}">' in body


def test_the_log_is_paginated_and_its_pages_keep_the_filters(boss, opened, patient, front_desk):
    # given 51 openings by the desk
    start = datetime(2026, 3, 2, 14, tzinfo=UTC)
    rows = [opened(patient, front_desk, start + timedelta(minutes=number)) for number in range(51)]
    # when
    first = boss.get(f"{URL}?user={front_desk.pk}")
    second = boss.get(f"{URL}?user={front_desk.pk}&page=2")
    # then
    assert entry_ids(first) == [row.pk for row in reversed(rows)][:50]
    assert entry_ids(second) == [rows[0].pk]
    assert f'href="?user={front_desk.pk}&amp;page=2" rel="next"' in first.content.decode()
    assert "Page 2 of 2" in second.content.decode()


def test_no_entries_says_so(boss, front_desk):
    assert 'data-testid="no-entries"' in boss.get(URL).content.decode()
    body = boss.get(f"{URL}?user={front_desk.pk}").content.decode()
    assert "No entries match these filters." in body


@pytest.mark.parametrize("query, field, words", [
    ("from=yesterday", "from", "is not a date"),
    ("to=2026-02-30", "to", "is not a date"),
    ("from=0001-01-01", "from", "Use a date between 1900-01-01 and 2999-12-31."),
    ("from=2026-03-03&to=2026-03-02", "to", "Must be on or after “from”."),
    ("user=abc", "user", "is not an id"),
    ("user=99999999", "user", "There is no member of staff with the id 99999999."),
    ("channel=fax", "channel", "Choose one of: api, web, export."),
    ("patient=abc", "patient", "is not an id"),
    ("patient=99999999", "patient", "There is no patient with the id 99999999."),
])
def test_a_filter_that_cannot_be_read_is_a_400_with_its_message_beside_it(boss, query, field, words):
    # when
    response = boss.get(f"{URL}?{query}")
    # then
    assert response.status_code == 400
    assert words in field_error(response, field)
    assert 'data-testid="error"' in response.content.decode()


def test_a_refused_filter_keeps_the_patient_a_link_chose(boss, patient):
    body = boss.get(f"{URL}?patient={patient.pk}&from=never").content.decode()
    assert f'<input type="hidden" name="patient" value="{patient.pk}">' in body


@pytest.mark.parametrize("who", ["front_desk", "clinician"])
def test_only_managers_see_the_log(request, client, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403


def test_the_log_is_read_in_a_fixed_number_of_queries(boss, opened, front_desk, django_assert_max_num_queries):
    for number in range(30):
        opened(PatientFactory(), front_desk, datetime(2026, 3, 2, 14, tzinfo=UTC) + timedelta(minutes=number))
    with django_assert_max_num_queries(12):
        assert len(entry_ids(boss.get(URL))) == 30


# --- the patient page's link -------------------------------------------------------------------------------


def test_the_patient_page_links_managers_to_who_opened_the_record(boss, client, patient, front_desk):
    body = boss.get(f"/patients/{patient.pk}/").content.decode()
    assert f'href="{URL}?patient={patient.pk}" data-testid="who-opened"' in body
    client.force_login(front_desk)
    assert 'data-testid="who-opened"' not in client.get(f"/patients/{patient.pk}/").content.decode()


# --- the API reads its filters the same way ----------------------------------------------------------------


def test_the_api_reads_days_on_the_managers_site_clock_and_filters_by_channel(api_as, manager, site, opened,
                                                                               patient, front_desk):
    # given
    site.staff.add(manager)
    monday_late = opened(patient, front_desk, MONDAY_2330_NEW_YORK)
    opened(patient, front_desk, MONDAY_2330_NEW_YORK, channel=PatientAccess.Channel.API)
    # when
    body = api_as(manager).get("/api/audit/access/?from=2026-03-02&to=2026-03-02&channel=web").json()
    # then
    assert [row["id"] for row in body["results"]] == [monday_late.pk]


# --- unusual access ----------------------------------------------------------------------------------------


@pytest.fixture
def rule(settings):
    """More than 3 different records within 10 minutes is unusual."""
    settings.UNUSUAL_ACCESS_RECORDS = 3
    settings.UNUSUAL_ACCESS_MINUTES = 10
    return settings


START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
NOW = START + timedelta(hours=2)


def open_many(opened, user, count: int, *, spread: timedelta, start: datetime = START) -> list[PatientAccess]:
    """``count`` different patients' records opened by ``user``, the first at ``start``, the last ``spread`` later."""
    step = spread / max(count - 1, 1)
    return [opened(PatientFactory(), user, start + step * number) for number in range(count)]


def test_opening_exactly_the_threshold_of_records_in_the_window_is_not_unusual(rule, opened, front_desk):
    open_many(opened, front_desk, 3, spread=timedelta(minutes=5))
    assert selectors.unusual_access(now=NOW) == []


def test_one_record_over_the_threshold_within_the_window_is_unusual(rule, opened, front_desk, clinician):
    # given
    rows = open_many(opened, front_desk, 4, spread=timedelta(minutes=10))
    open_many(opened, clinician, 3, spread=timedelta(minutes=1))
    # when
    flags = selectors.unusual_access(now=NOW)
    # then
    assert [(flag.user, flag.records, flag.first_at, flag.last_at) for flag in flags] == [
        (front_desk, 4, rows[0].at, rows[-1].at)]


def test_records_spread_over_longer_than_the_window_are_not_unusual(rule, opened, front_desk):
    open_many(opened, front_desk, 4, spread=timedelta(minutes=10, seconds=1))
    assert selectors.unusual_access(now=NOW) == []


def test_opening_one_record_again_does_not_count_twice(rule, opened, front_desk):
    # given three records, one of them opened twice: four openings, three records
    rows = open_many(opened, front_desk, 3, spread=timedelta(minutes=2))
    opened(rows[0].patient, front_desk, START + timedelta(minutes=3))
    # then
    assert selectors.unusual_access(now=NOW) == []


def test_a_window_before_the_lookback_is_not_shown(rule, opened, front_desk):
    open_many(opened, front_desk, 4, spread=timedelta(minutes=1), start=NOW - timedelta(days=8))
    assert selectors.unusual_access(now=NOW) == []
    assert [flag.records for flag in selectors.unusual_access(since=NOW - timedelta(days=9), now=NOW)] == [4]


def test_each_user_is_named_once_with_their_busiest_window(rule, opened, front_desk):
    # given a burst of 4 records, and an hour later one of 6
    open_many(opened, front_desk, 4, spread=timedelta(minutes=1))
    later = open_many(opened, front_desk, 6, spread=timedelta(minutes=2), start=START + timedelta(hours=1))
    # when
    flags = selectors.unusual_access(now=NOW)
    # then
    assert [(flag.records, flag.first_at) for flag in flags] == [(6, later[0].at)]


@hypothesis.settings(max_examples=40, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(openings=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 4), st.sampled_from(
    [0, 60, 120, 300, 570, 600, 601, 630, 900, 1200, 1201, 1800])), max_size=24), records=st.integers(1, 4))
def test_the_sql_sweep_counts_as_a_window_by_window_count_would(front_desk, clinician, manager, openings, records):
    # given openings by three users of five records, seconds after START (some exactly 10 minutes apart)
    users = [front_desk, clinician, manager]
    with transaction.atomic():
        patients = PatientFactory.create_batch(5)
        rows = PatientAccess.objects.bulk_create([
            PatientAccess(user=users[who], patient=patients[which], at=START + timedelta(seconds=second),
                          channel=PatientAccess.Channel.WEB) for who, which, second in openings])
        # when
        found = {flag.user.pk: flag.records
                 for flag in selectors.unusual_access(now=NOW, records=records, minutes=10)}
        transaction.set_rollback(True)
    # then: each user's largest count of different records among the windows that start at an opening
    expected = {}
    for user in users:
        mine = [row for row in rows if row.user_id == user.pk]
        most = max((len({row.patient_id for row in mine if start.at <= row.at <= start.at + timedelta(minutes=10)})
                    for start in mine), default=0)
        if most > records:
            expected[user.pk] = most
    assert found == expected


def test_the_page_shows_the_flag_with_a_link_to_the_users_entries(boss, rule, clock, opened, front_desk):
    # given 23:55 on Monday in New York to 00:04 on Tuesday: four records in nine minutes
    clock.move_to(datetime(2026, 3, 3, 6, 0, tzinfo=UTC))
    open_many(opened, front_desk, 4, spread=timedelta(minutes=9), start=datetime(2026, 3, 3, 4, 55, tzinfo=UTC))
    # when
    body = boss.get(URL).content.decode()
    # then
    flag = re.search(r'data-testid="unusual-flag".*?</li>', body, re.DOTALL).group(0)
    assert "Mon Mar 2, 2026 23:55 EST" in flag and "Tue Mar 3, 2026 00:04 EST" in flag
    assert f'href="{URL}?user={front_desk.pk}&amp;from=2026-03-02&amp;to=2026-03-03"' in flag


def test_the_page_says_when_nobody_is_flagged(boss, rule):
    assert 'data-testid="no-unusual-access"' in boss.get(URL).content.decode()


def test_the_admin_names_the_entries_and_shows_local_times(client, opened, patient, front_desk, site):
    # given a superuser on Midtown's staff
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True, roles=[MANAGER])
    site.staff.add(admin_user)
    opened(patient, front_desk, MONDAY_2330_NEW_YORK)
    client.force_login(admin_user)
    # when
    body = client.get("/admin/patients/patientaccess/").content.decode()
    # then
    assert "Patient accesss" not in body and "access log entr" in body.lower()
    assert "Mon Mar 2, 2026 23:30 EST" in body
