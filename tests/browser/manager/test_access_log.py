"""The access log in a real browser, at 1440 and 1024 pixels: who opened a record, and who opened many.

The manager goes from a patient's page to "Who opened this record", narrows
the log to one member of staff and one day on the site's clock (an opening at
23:30 New York time is on that day, not UTC's next one), goes back, and
follows the unusual-access flag to the entries of the user who opened many
records. axe finds no serious or critical violation. The rules without a
browser: tests/patients/test_access_log_page.py.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.roles import FRONT_DESK
from patients.models import PatientAccess
from tests.browser.accessibility import blocking_violations
from tests.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def unusual_rule(settings):
    """More than 3 different records within 10 minutes is unusual (the live server reads these settings)."""
    settings.UNUSUAL_ACCESS_RECORDS = 3
    settings.UNUSUAL_ACCESS_MINUTES = 10


def opened(patient, user, at, channel=PatientAccess.Channel.WEB) -> PatientAccess:
    return PatientAccess.objects.create(patient=patient, user=user, at=at, channel=channel,
                                        path=f"/patients/{patient.pk}/")


def test_a_manager_finds_who_opened_a_record_and_who_opened_many(boss, width, site, desk_user, unusual_rule):
    # given Harriet's record, opened by the desk at 23:30 yesterday and the day before on the site's clock, and
    # by a clinician; and a temp who opened five different records in four minutes yesterday morning
    today = site.local_date(timezone.now())
    yesterday = today - timedelta(days=1)
    harriet = PatientFactory(first_name="Harriet", last_name="Okonkwo")
    late = opened(harriet, desk_user, site.at(yesterday, time(23, 30)))
    opened(harriet, desk_user, site.at(yesterday - timedelta(days=1), time(23, 30)), channel=PatientAccess.Channel.API)
    clinician = UserFactory(username="ana.ortiz", first_name="Ana", last_name="Ortiz")
    opened(harriet, clinician, site.at(yesterday, time(10, 0)))
    temp = UserFactory(username="terry.temp", first_name="Terry", last_name="Temp", roles=[FRONT_DESK])
    for minute in range(5):
        opened(PatientFactory(), temp, site.at(yesterday, time(9, minute)))

    # when the manager opens Harriet's page and asks who opened the record
    boss.goto(f"/patients/{harriet.pk}/")
    boss.screenshot(path=f"/tmp/h2-patient-page-{width}.png")
    boss.get_by_role("link", name="Who opened this record").click()
    # then she sees the openings of Harriet's record only, newest first, on the site's clock
    expect(boss).to_have_url(re.compile(rf"/patients/access-log/\?patient={harriet.pk}$"))
    expect(boss.get_by_test_id("filter-patient")).to_contain_text("Harriet Okonkwo")
    rows = boss.get_by_test_id("access-entry")
    expect(rows).to_have_count(4)  # her own opening of the patient page is the newest
    expect(rows.nth(1)).to_have_attribute("data-entry-id", str(late.pk))
    expect(rows.nth(1)).to_contain_text(f"{yesterday:%a %b} {yesterday.day}, {yesterday:%Y} 23:30 E")
    expect(rows.nth(1)).to_contain_text("Maria Desk")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h2-access-log-patient-{width}.png", full_page=True)

    # when she narrows it to the desk's openings yesterday
    boss.get_by_label("Opened by").select_option(label="Maria Desk (maria.desk)")
    boss.get_by_label("From").fill(yesterday.isoformat())
    boss.get_by_label("To (the whole day)").fill(yesterday.isoformat())
    boss.get_by_role("button", name="Filter").click()
    # then the 23:30 opening alone, the filters in the address
    expect(boss).to_have_url(re.compile(rf"patient={harriet.pk}.*user={desk_user.pk}.*from={yesterday}"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-entry-id", str(late.pk))
    expect(boss.get_by_label("From")).to_have_value(yesterday.isoformat())

    # when she goes back, the record's whole log is there again
    boss.go_back()
    expect(rows).to_have_count(4)

    # when she types a day that ends before it starts
    boss.get_by_label("From").fill(today.isoformat())
    boss.get_by_label("To (the whole day)").fill(yesterday.isoformat())
    boss.get_by_role("button", name="Filter").click()
    # then she is told beside the field, and the patient stays chosen
    expect(boss.get_by_test_id("error")).to_be_visible()
    expect(boss.locator("#access-to-error")).to_have_text("Must be on or after “from”.")
    expect(boss.get_by_test_id("filter-patient")).to_contain_text("Harriet Okonkwo")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h2-access-log-refused-{width}.png", full_page=True)

    # when she clears the filters, the unusual access is flagged at the top
    boss.get_by_role("link", name="Clear the filters").click()
    flag = boss.get_by_test_id("unusual-flag")
    expect(flag).to_have_count(1)
    expect(flag).to_contain_text("Terry Temp")
    expect(flag.get_by_test_id("unusual-records")).to_have_text("5")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h2-access-log-all-{width}.png", full_page=True)

    # and the flag leads to Terry's entries on that day
    flag.get_by_role("link", name=re.compile("Show Terry Temp's entries")).click()
    expect(boss).to_have_url(re.compile(rf"user={temp.pk}&from={yesterday}&to={yesterday}$"))
    expect(rows).to_have_count(5)
    expect(boss.get_by_label("Opened by")).to_have_value(str(temp.pk))
