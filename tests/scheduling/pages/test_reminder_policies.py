"""The manager's reminder policies: each site's policy in force (defaults included), the form, previews, defaults.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py): the sample visit a preview is
rendered for is tomorrow, Tuesday March 3 at 10:30 AM at the site. ``site`` is Midtown (New York).
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, time

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client

from clinic.roles import MANAGER
from scheduling.messaging.desk_texts import sms_parts
from scheduling.messaging.reminders import body_for, render
from scheduling.models import Location, Reminder, ReminderKind, ReminderPolicy, Session
from scheduling.models.messaging import DEFAULT_DAY_BEFORE, DEFAULT_OUTREACH, DEFAULT_SAME_DAY
from scheduling.pages.reminder_policy_form import FIELDS, defaults
from tests.factories import LocationFactory, ReminderPolicyFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def boss(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def uptown(db):
    """A second site, in Chicago, whose manager moved the day-before reminder to 18:00."""
    location = LocationFactory(name="Uptown", time_zone="America/Chicago")
    ReminderPolicyFactory(location=location, day_before_at=time(18))
    return location


def form_data(**changes) -> dict:
    """The form as the page first shows it for a site on the defaults, with ``changes``."""
    data = {name: value for name, value in defaults().items()}
    data.update(changes)
    posted = {}
    for name, value in data.items():
        if isinstance(value, bool):
            if value:
                posted[name] = "on"
        elif isinstance(value, time):
            posted[name] = value.strftime("%H:%M")
        else:
            posted[name] = str(value)
    return posted


def save(client, location, **changes):
    return client.post(f"/manage/texts/{location.id}/", form_data(**changes))


def preview(client, location, kind, text):
    return client.post(f"/manage/texts/{location.id}/preview/", {"kind": kind, f"{kind}_template": text})


# --- the list ------------------------------------------------------------------------------------------------


def test_the_list_shows_every_site_with_the_policy_in_force_defaults_marked_as_such(boss, site, uptown):
    # given Midtown has no saved policy and Uptown moved its day-before time
    # when
    response = boss.get("/manage/texts/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="policy-site"') == 2
    midtown, chicago = card(html, site), card(html, uptown)
    assert html.index("Midtown") < html.index("Uptown")
    assert 'data-status="default"' in midtown and "Clinic defaults" in midtown
    assert "at 17:00" in midtown and "no texts from 21:00 to 08:00" in midtown
    assert 'data-status="changed"' in chicago and "day-before time 18:00 (default 17:00)" in chicago
    assert "at 18:00" in chicago


def test_the_list_counts_each_text_in_sms_parts(boss, site):
    html = boss.get("/manage/texts/").content.decode()
    day_before = render(DEFAULT_DAY_BEFORE, _visit(site))
    assert f"<td>{sms_parts(day_before).characters}</td>" in html
    assert html.count('data-testid="policy-text"') == 3


def test_the_list_pages_a_network_of_sites_by_25(boss, site):
    LocationFactory.create_batch(25, hours={})
    first = boss.get("/manage/texts/").content.decode()
    second = boss.get("/manage/texts/?page=2").content.decode()
    assert first.count('data-testid="policy-site"') == 25 and "Page 1 of 2" in first
    assert second.count('data-testid="policy-site"') == 1


def test_the_list_reads_the_sites_and_policies_in_a_fixed_number_of_queries(boss, site, uptown,
                                                                             django_assert_max_num_queries):
    for number in range(5):
        ReminderPolicyFactory(location=LocationFactory(name=f"Site {number}"), daily_cap=1)
    with django_assert_max_num_queries(8):
        assert boss.get("/manage/texts/").status_code == 200


# --- one site's form -----------------------------------------------------------------------------------------


def test_the_form_shows_the_defaults_and_a_preview_of_each_text_for_a_visit_tomorrow(boss, site):
    response = boss.get(f"/manage/texts/{site.id}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="default"' in html
    assert 'value="17:00"' in html
    assert 'data-testid="sample-visit">Tuesday March 3 at 10:30 AM<' in html
    assert f"{settings.CLINIC_NAME}: reminder of your visit Tuesday March 3 at 10:30 AM." in html
    assert f"{settings.CLINIC_NAME}: see you today at 10:30 AM." in html
    assert "Restore the clinic defaults" not in html  # nothing to restore


def test_saving_stores_the_policy_and_the_page_then_says_changed(boss, site):
    # when
    response = save(boss, site, day_before_at=time(18, 30), weekly_cap=2,
                    same_day_template="{clinic}: see you at {time} at {location}. Reply C to confirm. {phone}")
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/manage/texts/{site.id}/?done=saved"
    policy = ReminderPolicy.objects.get(location=site)
    assert (policy.day_before_at, policy.weekly_cap) == (time(18, 30), 2)
    assert policy.same_day_template.startswith("{clinic}: see you at {time} at {location}")
    html = boss.get(response["Location"]).content.decode()
    assert 'data-status="changed"' in html and 'data-testid="policy-done"' in html
    assert "Restore the clinic defaults" in html
    assert f"{settings.CLINIC_NAME}: see you at 10:30 AM at Midtown." in html


def test_a_saved_text_is_the_one_the_preview_showed_when_the_reminder_goes(boss, site, chair, book):
    # given a visit booked at the preview's sample time, tomorrow at 10:30, and its reminders planned
    session = book(chair, site.at(date(2026, 3, 3), time(10, 30)))
    text = "{clinic}: see you at {time} ({location}, {date}). Reply C to confirm, R for a new time. {phone}"
    shown = preview(boss, site, "same_day", text).content.decode()
    # when the manager saves the text
    save(boss, site, same_day_template=text)
    # then the reminder, when it goes, says what the preview said
    reminder = Reminder.objects.get(session=session, kind=ReminderKind.SAME_DAY)
    body = body_for(reminder, ReminderPolicy.for_location(site))
    assert body == f"{settings.CLINIC_NAME}: see you at 10:30 AM (Midtown, Mar 3). Reply C to confirm, R for a new " \
                   "time. +15555550100"
    assert f'data-testid="preview-text">{body}</p>' in shown


def test_the_form_says_how_many_reminders_are_planned_and_that_saving_plans_them_again(boss, site, chair, book):
    book(chair, site.at(date(2026, 3, 4), time(10)))
    html = boss.get(f"/manage/texts/{site.id}/").content.decode()
    assert "Already planned at Midtown: 2 reminders. Saving plans again each one not yet on its way" in html


def test_saving_from_the_page_plans_the_waiting_reminders_again(boss, site, chair, book):
    # given a visit on Wednesday at 10:00 with its two reminders pending (day before at 17:00, on the day at 08:00)
    session = book(chair, site.at(date(2026, 3, 4), time(10)))
    # when the manager turns the same-day reminder off and moves the day-before one to 18:30
    response = save(boss, site, same_day_enabled=False, day_before_at=time(18, 30))
    # then
    assert response.status_code == 302
    day_before = Reminder.objects.get(session=session, kind=ReminderKind.DAY_BEFORE)
    same_day = Reminder.objects.get(session=session, kind=ReminderKind.SAME_DAY)
    assert (day_before.state, site.local(day_before.send_at)) == ("pending", site.at(date(2026, 3, 3), time(18, 30)))
    assert (same_day.state, same_day.reason) == ("void", "same day reminders turned off at the site")
    assert "not yet on their way at this site follow this policy now" in boss.get(response["Location"]).content.decode()


def test_restoring_the_defaults_plans_the_waiting_reminders_again(boss, site, chair, book):
    # given a site that had turned the day-before reminder off, and a visit booked then
    ReminderPolicyFactory(location=site, day_before_enabled=False)
    session = book(chair, site.at(date(2026, 3, 4), time(10)))
    assert not session.reminders.filter(kind=ReminderKind.DAY_BEFORE).exists()
    # when
    boss.post(f"/manage/texts/{site.id}/restore/")
    # then the visit gets its day-before reminder at 17:00 the day before
    reminder = Reminder.objects.get(session=session, kind=ReminderKind.DAY_BEFORE)
    assert (reminder.state, site.local(reminder.send_at)) == ("pending", site.at(date(2026, 3, 3), time(17)))


def test_a_change_is_recorded_with_who_made_it_and_shown_in_the_policys_history(boss, manager, site):
    # given
    manager.first_name, manager.last_name = "Mia", "Moreno"
    manager.save()
    # when she saves twice, the second time without a change
    save(boss, site, daily_cap=1, weekly_cap=2, same_day_template="{clinic}: today at {time}. {phone}")
    save(boss, site, daily_cap=1, weekly_cap=2, same_day_template="{clinic}: today at {time}. {phone}")
    # then one change is recorded, in the admin's log of the policy, by her, and the page lists it
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id) == (manager, str(ReminderPolicy.objects.get(location=site).pk))
    assert entry.change_message == "weekly cap 3 → 2; same-day text"
    html = boss.get(f"/manage/texts/{site.id}/").content.decode()
    assert 'data-testid="history-who">Mia Moreno<' in html
    assert 'data-testid="history-what">weekly cap 3 → 2; same-day text<' in html
    assert "Mon Mar 2, 2026 09:00" in html  # the site's time (14:00 UTC)


def test_a_policy_with_no_recorded_change_says_so_without_claiming_the_defaults(boss, site, uptown):
    assert "Midtown has texted on the clinic's defaults" in boss.get(f"/manage/texts/{site.id}/").content.decode()
    html = boss.get(f"/manage/texts/{uptown.id}/").content.decode()
    assert "set outside this page and the admin" in html and "texted on the clinic" not in html


def test_restoring_is_recorded_with_what_it_put_back(boss, manager, site):
    ReminderPolicyFactory(location=site, quiet_from=time(20))
    boss.post(f"/manage/texts/{site.id}/restore/")
    assert LogEntry.objects.get().change_message == "Restored the clinic defaults: quiet from 20:00 → 21:00"
    boss.post(f"/manage/texts/{site.id}/restore/")  # already the defaults: nothing to record
    assert LogEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_managers_saving_a_sites_first_policy_at_once_both_succeed_on_one_row(manager, site):
    # given two managers, each with the form of a site still on the defaults
    other = UserFactory(username="boss2", roles=[MANAGER])
    barrier = threading.Barrier(2)

    def submit(user, weekly_cap):
        client = Client()
        client.force_login(user)
        try:
            barrier.wait(timeout=30)
            return client.post(f"/manage/texts/{site.id}/", form_data(weekly_cap=weekly_cap)).status_code
        finally:
            connection.close()

    # when both save at the same moment
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(pool.map(submit, (manager, other), (2, 1)))
    # then both saves went through, one after the other, on the site's one policy
    assert statuses == [302, 302]
    assert ReminderPolicy.objects.filter(location=site).count() == 1
    assert ReminderPolicy.objects.get(location=site).weekly_cap in (1, 2)
    assert LogEntry.objects.count() == 2


def test_saving_twice_keeps_one_policy_row_for_the_site(boss, site):
    save(boss, site, daily_cap=1, weekly_cap=2)
    save(boss, site, daily_cap=1, weekly_cap=3)
    assert ReminderPolicy.objects.filter(location=site).count() == 1
    assert ReminderPolicy.objects.get(location=site).weekly_cap == 3


def test_restoring_the_defaults_puts_every_field_back(boss, site):
    # given
    ReminderPolicyFactory(location=site, day_before_enabled=False, quiet_from=time(20), outreach_template="{clinic}")
    # when
    response = boss.post(f"/manage/texts/{site.id}/restore/")
    # then
    assert response.status_code == 302
    policy = ReminderPolicy.objects.get(location=site)
    assert {name: getattr(policy, name) for name in FIELDS} == defaults()
    assert 'data-status="default"' in boss.get(f"/manage/texts/{site.id}/").content.decode()


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"day_before_template": "Your ketamine visit is {day}."}, "day_before_template", "remove: ketamine"),
    ({"same_day_template": "See you at {hour}."}, "same_day_template", "Unknown placeholder(s): hour"),
    ({"outreach_template": "Call us {phone"}, "outreach_template", "a lone { or } cannot be sent"),
    ({"outreach_template": ""}, "outreach_template", "This field is required"),
    ({"outreach_template": "{clinic:>900}: call {phone}"}, "outreach_template", "its name alone"),
    ({"day_before_template": "{clinic.upper} {day}"}, "day_before_template", "its name alone"),
    ({"same_day_template": "{time[0]} today"}, "same_day_template", "its name alone"),
    ({"same_day_template": "{clinic!r} today"}, "same_day_template", "its name alone"),
    ({"same_day_template": "See you {} today"}, "same_day_template", "its name alone"),
    ({"same_day_template": "See you today } {clinic}"}, "same_day_template", "a lone { or } cannot be sent"),
    ({"daily_cap": 0}, "daily_cap", "At least 1"),
    ({"weekly_cap": 0}, "weekly_cap", "At least 1"),
    ({"quiet_from": time(8), "quiet_until": time(8)}, "quiet_until", "must end at another time"),
    ({"day_before_at": time(22)}, "day_before_at", "22:00 is inside the quiet hours (21:00 to 08:00)"),
    ({"same_day_hours_before": 1, "min_lead_minutes": 90}, "same_day_hours_before", "would never be sent"),
    ({"day_before_at": "25:00"}, "day_before_at", "Enter a valid time"),
    ({"quiet_from": time(8), "quiet_until": time(21)}, "quiet_from", "would text patients at night"),
    ({"same_day_hours_before": 13}, "same_day_hours_before", "At most 12 hours"),
    ({"weekly_cap": "three"}, "weekly_cap", "Enter a whole number"),
    ({"min_lead_minutes": -5}, "min_lead_minutes", "greater than or equal to 0"),
])
def test_a_refused_policy_is_a_400_with_the_reason_beside_its_field_and_nothing_saved(boss, site, changes, field,
                                                                                    words):
    # when
    response = save(boss, site, **changes)
    # then
    html = response.content.decode()
    assert response.status_code == 400
    error = html.split(f'id="id_{field}-error">')[1].split("</span>")[0]
    assert words in error.replace("&#x27;", "'")
    assert f"id_{field}-error" in tag(html, f"id_{field}")
    assert 'aria-invalid="true"' in tag(html, f"id_{field}")
    assert not ReminderPolicy.objects.filter(location=site).exists()


def test_quiet_hours_may_start_at_midnight_or_run_longer_than_the_defaults(boss, site):
    assert save(boss, site, quiet_from=time(0), quiet_until=time(8)).status_code == 302
    assert save(boss, site, quiet_from=time(20), quiet_until=time(9), day_before_at=time(17)).status_code == 302
    assert ReminderPolicy.objects.get(location=site).quiet_from == time(20)


def test_a_time_refused_by_its_field_is_not_also_judged_by_the_policys_rules_at_its_default(boss, site):
    # given quiet-from typed wrong and quiet-until at 21:00: judged against the default 21:00 they would be "equal"
    response = save(boss, site, quiet_from="9pm", quiet_until=time(21))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_quiet_from-error"' in html
    assert 'id="id_quiet_until-error"' not in html


def test_a_form_with_no_fields_at_all_is_a_400_not_an_error(boss, site):
    response = boss.post(f"/manage/texts/{site.id}/", {})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_a_refused_form_keeps_what_the_manager_typed(boss, site):
    response = save(boss, site, daily_cap=0, same_day_template="{clinic}: see you at {time}, bring a friend.")
    html = response.content.decode()
    assert response.status_code == 400
    assert "{clinic}: see you at {time}, bring a friend.</textarea>" in html


def test_a_day_before_time_in_quiet_hours_is_allowed_when_that_reminder_is_off(boss, site):
    response = save(boss, site, day_before_enabled=False, day_before_at=time(22))
    assert response.status_code == 302
    assert ReminderPolicy.objects.get(location=site).day_before_enabled is False


def test_an_unknown_site_is_a_404(boss, site):
    assert boss.get(f"/manage/texts/{site.id + 999}/").status_code == 404
    assert boss.post(f"/manage/texts/{site.id + 999}/restore/").status_code == 404


# --- the preview ---------------------------------------------------------------------------------------------


def test_the_preview_renders_the_text_as_sent_with_its_length_and_parts(boss, site):
    # when
    response = preview(boss, site, "same_day", DEFAULT_SAME_DAY)
    # then
    html = response.content.decode()
    sent = render(DEFAULT_SAME_DAY, _visit(site))
    parts = sms_parts(sent)
    assert response.status_code == 200
    assert sent.replace("'", "&#x27;") in html
    assert f'data-characters="{parts.characters}" data-segments="{parts.segments}" data-unicode="false"' in html
    assert f"GSM-7: {parts.per_part} characters a part" in html
    assert (f'id="preview-status-same_day" hx-swap-oob="innerHTML">Same-day reminder: {parts.characters} characters, '
            f'{parts.segments} SMS parts.<') in html  # the page's status line, said to a screen reader


def test_one_character_outside_the_gsm_alphabet_makes_it_unicode_and_counts_more_parts(boss, site):
    # given a text of 150 GSM characters: one part; with a typographic apostrophe: UCS-2, 70 a part
    plain = "{clinic}: " + "a" * 120
    curly = "{clinic}: " + "a" * 119 + "\u2019"
    # when
    gsm = preview(boss, site, "outreach", plain).content.decode()
    ucs = preview(boss, site, "outreach", curly).content.decode()
    # then
    assert 'data-segments="1" data-unicode="false"' in gsm
    characters = len(settings.CLINIC_NAME) + 2 + 120
    assert f'data-characters="{characters}" data-segments="{-(-characters // 67)}" data-unicode="true"' in ucs
    assert "Unicode: 67 characters a part, because of" in ucs and "\u2019" in ucs


def test_the_preview_says_when_the_longest_dates_need_another_part(boss, site):
    # given a day-before text that fits one part on Tuesday March 3 but not on Wednesday September 30
    filler = "x" * (160 - len(render("{clinic} {day} {time}", _visit(site))) - 2)
    text = "{clinic} {day} {time} " + filler
    # when
    html = preview(boss, site, "day_before", text).content.decode()
    # then
    assert 'data-segments="1"' in html
    assert "On the longest dates" in html and "2 parts" in html


def test_the_preview_of_a_refused_text_is_a_400_that_says_why(boss, site):
    response = preview(boss, site, "outreach", "Book your next Spravato visit: {phone}")
    assert response.status_code == 400
    assert "remove: spravato" in response.content.decode().lower()


def test_the_preview_renders_outreach_with_the_site_and_due_date(boss, site):
    html = preview(boss, site, "outreach", "{clinic} at {location}: due {date}. " + DEFAULT_OUTREACH).content.decode()
    assert f"{settings.CLINIC_NAME} at Midtown: due Mar 3." in html


def test_a_preview_of_an_unknown_text_is_a_400(boss, site):
    assert boss.post(f"/manage/texts/{site.id}/preview/", {"kind": "tomorrow"}).status_code == 400


# --- who may ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["front_desk", "clinician", "no_role_user"])
def test_only_a_manager_may_see_or_change_the_policies(client, request, site, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/manage/texts/").status_code == 403
    assert client.get(f"/manage/texts/{site.id}/").status_code == 403
    assert client.post(f"/manage/texts/{site.id}/", form_data(weekly_cap=2)).status_code == 403
    assert client.post(f"/manage/texts/{site.id}/preview/", {"kind": "outreach"}).status_code == 403
    assert client.post(f"/manage/texts/{site.id}/restore/").status_code == 403
    assert not ReminderPolicy.objects.exists()


def test_signed_out_the_page_sends_to_sign_in(client, site):
    response = client.get("/manage/texts/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def _visit(site: Location) -> Session:
    """The preview's sample visit: tomorrow (Tuesday March 3) at 10:30 at the site."""
    return Session(location=site, start=site.at(date(2026, 3, 3), time(10, 30)))


def card(html: str, location: Location) -> str:
    """The list's card of ``location``."""
    return html.split(f'data-location="{location.id}"')[1].split("</li>")[0]


def tag(html: str, element_id: str) -> str:
    """The opening tag of the element with ``element_id``."""
    return re.search(rf'<[^<>]*id="{element_id}"[^<>]*>', html).group(0)
