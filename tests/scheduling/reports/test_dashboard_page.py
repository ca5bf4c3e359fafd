"""The manager's dashboard (`/manage/numbers/`) and its CSV: the question asked, the figures worded, refusals beside
their fields. The figures are a known November (``numbers_sample``) put where the page asks for them; one test
reads the real figures from the database.

Now is Monday 2 March 2026, 09:00 in New York (tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from django.urls import reverse

from scheduling.pages import numbers as numbers_page
from scheduling.reports.dashboard import FIGURE_KEYS, Period
from tests.scheduling.reports.numbers_sample import november, tables_with_charts

pytestmark = pytest.mark.django_db
URL = "/manage/numbers/"


@pytest.fixture
def office(client, manager, now):
    client.force_login(manager)
    return client


@pytest.fixture
def asked(monkeypatch):
    """The dashboard answers with November's known numbers; ``asked`` lists each question it was asked."""
    questions = []

    def clinic_numbers(*, period, location_id):
        questions.append({"period": period, "location_id": location_id})
        return november(location={"id": location_id, "name": "Midtown"} if location_id else None)

    def figure_numbers(key, *, period, location_id):
        questions.append({"period": period, "location_id": location_id, "figure": key})
        return next(figure for figure in november()["figures"] if figure["key"] == key)

    monkeypatch.setattr(numbers_page, "clinic_numbers", clinic_numbers)
    monkeypatch.setattr(numbers_page, "figure_numbers", figure_numbers)
    return questions


def figure_section(page: str, key: str) -> str:
    return page.split(f'data-figure="{key}"', 1)[1].split("</section>", 1)[0]


def test_the_dashboard_opens_on_this_month_for_all_sites(office, asked):
    # when
    response = office.get(URL)
    # then
    assert response.status_code == 200
    assert asked == [{"period": Period("month", date(2026, 3, 1), date(2026, 3, 31)), "location_id": None}]


def test_each_figure_gives_its_headline_beside_the_previous_period_its_change_and_its_definition(office, asked):
    page = office.get(URL).content.decode()
    utilisation = figure_section(page, "chair_utilisation")
    assert 'data-testid="headline-value">61.4%<' in utilisation
    assert "(1,234.0 of 2,010.0 hours)" in utilisation
    assert "(6.5 of 10.5 hours)" in figure_section(page, "freed_chairs")
    assert "(18 of 20)" in figure_section(page, "rems_on_time")
    assert re.search(r"October 2026: <strong>58.0%</strong> <span[^>]*>\(\+3.4 points\)", utilisation)
    assert "How chair utilisation is counted, in one sentence." in utilisation
    assert re.search(r"October 2026: <strong>no data</strong>", figure_section(page, "late_cancels"))
    assert "(+8)" in figure_section(page, "sessions_by_phase")
    # outcomes has no single figure: its numbers are in its table
    assert 'data-testid="headline"' not in figure_section(page, "outcomes")
    assert [match for match in re.findall(r'data-figure="(\w+)"', page)] == list(FIGURE_KEYS)


def test_every_table_has_its_chart_inline_then_an_accessible_table_and_a_csv_link(office, asked):
    page = office.get(URL).content.decode()
    for figure, table in tables_with_charts(november()):
        block = figure_section(page, figure).split(f'data-table="{table}"', 1)[1]
        block = block.split('data-testid="numbers-table"')[0]
        assert re.search(r'<svg [^>]*role="img"[^>]*aria-labelledby="chart-', block), (figure, table)
        assert 'class="mark"' in block
        assert "<caption>" in block and '<th scope="col"' in block
        assert f'href="/manage/numbers/{figure}/{table}.csv?period=month&amp;anchor=2026-03-01"' in block
    # the overdue forms have no chart, only their table
    overdue = figure_section(page, "rems_on_time").split('data-table="overdue_now"', 1)[1]
    assert "<svg" not in overdue and '<th scope="row">Midtown</th><td class="number">2</td>' in overdue


def test_no_chart_brings_a_style_element_a_style_attribute_or_a_script(office, asked):
    page = office.get(URL).content.decode()
    assert "<svg" in page
    assert "<style" not in page and " style=" not in page and "<script>" not in page


def test_the_heat_maps_table_has_weekdays_down_and_hours_across(office, asked):
    block = figure_section(office.get(URL).content.decode(), "chair_utilisation").split(
        'data-table="by_weekday_hour"', 1)[1]
    assert '<th scope="col" class="number">08:00</th>' in block and '<th scope="col" class="number">17:00</th>' in block
    assert '<th scope="row">Monday</th><td class="number">20.0%</td>' in block


def test_a_site_and_a_week_are_asked_for_and_the_period_links_step_a_week(office, asked, site):
    # when the manager asks for Midtown, the week holding Wednesday 4 November
    response = office.get(URL, {"location": site.pk, "period": "week", "anchor": "2026-11-04"})
    # then
    assert asked[0] == {"period": Period("week", date(2026, 11, 2), date(2026, 11, 8)), "location_id": site.pk}
    page = response.content.decode()
    assert f'href="/manage/numbers/?location={site.pk}&amp;period=week&amp;anchor=2026-10-26"' in page
    assert f'href="/manage/numbers/?location={site.pk}&amp;period=week&amp;anchor=2026-11-09"' in page
    assert "Midtown · November 2026" in page  # the numbers' own label, site and period
    # the same question, in the same words, to the API
    assert f'href="/api/reports/dashboard/?location={site.pk}&amp;period=week&amp;anchor=2026-11-02"' in page


def test_custom_days_step_by_their_own_length(office, asked):
    page = office.get(URL, {"period": "custom", "start": "2026-02-10", "end": "2026-02-19"}).content.decode()
    assert asked[0]["period"] == Period("custom", date(2026, 2, 10), date(2026, 2, 19))
    assert 'href="/manage/numbers/?period=custom&amp;start=2026-01-31&amp;end=2026-02-09"' in page
    assert 'href="/manage/numbers/?period=custom&amp;start=2026-02-20&amp;end=2026-03-01"' in page


@pytest.mark.parametrize(("query", "field", "words"), [
    ({"period": "custom", "start": "2026-03-10", "end": "2026-03-01"}, "end", "on or after the first day"),
    ({"period": "custom", "end": "2026-03-01"}, "start", "needs its first day"),
    ({"period": "custom", "start": "2025-01-01", "end": "2026-03-01"}, "end", "at most 366 days"),
    ({"period": "month", "anchor": "31/02/2026"}, "anchor", "Enter a valid date"),
    ({"period": "fortnight"}, "period", "Select a valid choice"),
    ({"location": "999999"}, "location", "Select a valid choice"),
    ({"location": "midtown"}, "location", "Select a valid choice"),
    ({"location": "99999999999999999999999"}, "location", "Select a valid choice"),
    ({"period": "week", "anchor": "0001-01-01"}, "anchor", "between 1900 and 2999"),
])
def test_a_question_the_rules_refuse_is_a_400_with_the_reason_beside_its_field(office, asked, query, field, words):
    # when
    response = office.get(URL, query)
    # then
    assert response.status_code == 400
    page = response.content.decode()
    error = re.search(rf'<span class="field-error" id="id_{field}_error" data-testid="error-{field}">([^<]*)<', page)
    assert error and words in error.group(1).replace("&#x27;", "'")
    assert re.search(rf'<(input|select)[^>]*aria-invalid="true"[^>]*id="id_{field}"|'
                     rf'<(input|select)[^>]*id="id_{field}"[^>]*aria-invalid="true"', page)
    assert 'data-testid="figure"' not in page and asked == []


def test_the_managers_home_opens_with_a_link_to_the_numbers(office):
    page = office.get(reverse("manager-home")).content.decode()
    first = page.split('<div class="home-sections">', 1)[1].split("</section>", 1)[0]
    assert 'data-testid="home-numbers"' in first and 'href="/manage/numbers/"' in first


def test_a_front_desk_user_is_refused(client, front_desk, asked):
    client.force_login(front_desk)
    assert client.get(URL).status_code == 403


def test_a_tables_csv_has_a_header_row_and_a_filename_naming_the_site_and_period(office, asked, site):
    # when
    response = office.get(reverse("numbers-csv", args=["chair_utilisation", "by_site"]),
                          {"location": site.pk, "period": "month", "anchor": "2026-11-15"})
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="chair_utilisation-by_site-midtown-2026-11-01-to-2026-11-30.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["Site", "Booked chair hours (hours)", "Open chair hours (hours)", "Utilisation (%)"],
                    ["Midtown", "123.4", "201.0", "61.4"],
                    ["'=Westside", "0.0", "0.0", ""]]  # a name that looks like a formula stays words
    assert asked[0] == {"period": Period("month", date(2026, 11, 1), date(2026, 11, 30)), "location_id": site.pk,
                        "figure": "chair_utilisation"}


def test_the_csv_for_all_sites_says_so_in_its_name(office, asked):
    response = office.get(reverse("numbers-csv", args=["texts", "replies"]),
                          {"period": "custom", "start": "2026-02-01", "end": "2026-02-14"})
    assert response["Content-Disposition"] == (
        'attachment; filename="texts-replies-all-sites-2026-02-01-to-2026-02-14.csv"')
    assert response.content.decode().splitlines()[:2] == ["Reply,Count,Previous period", "Confirm,120,111"]


@pytest.mark.parametrize(("figure", "table"), [("chair_use", "by_site"), ("texts", "by_site")])
def test_an_unknown_figure_or_table_is_a_404(office, asked, figure, table):
    assert office.get(reverse("numbers-csv", args=[figure, table])).status_code == 404


def test_a_csv_for_a_refused_period_is_a_400_that_says_why(office, asked):
    response = office.get(reverse("numbers-csv", args=["texts", "texts"]), {"period": "custom", "start": "2026-03-01"})
    assert response.status_code == 400
    assert "needs its last day" in response.content.decode()


def test_the_real_figures_for_a_site_draw_the_page(office, site, chair):
    # given a site with a chair and nothing booked: every figure reads "no data" or 0, none fails
    response = office.get(URL, {"location": site.pk, "period": "quarter"})
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert re.findall(r'data-figure="(\w+)"', page) == list(FIGURE_KEYS)
    assert "Midtown · Q1 2026" in page
    # and the API, asked the page's question in the page's words, answers the same period and site
    api = office.get(re.search(r'href="(/api/reports/dashboard/\?[^"]+)"', page).group(1).replace("&amp;", "&"))
    assert api.status_code == 200
    assert api.json()["period"]["label"] == "Q1 2026" and api.json()["location"]["name"] == "Midtown"
