"""A reminder policy's rules live on the model: ``validate_template`` and ``ReminderPolicy.clean``.

The manager's page (tests/scheduling/pages/test_reminder_policies.py), the Django admin and anything
calling ``full_clean`` refuse the same policies, each refusal beside its field.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError

from scheduling.messaging.reminders import render
from scheduling.models import Reminder, ReminderKind, ReminderPolicy, ReminderState, Session
from tests.scheduling.conftest import local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def refusal(site, **values) -> dict[str, list[str]]:
    """What ``full_clean`` says, by field, of a policy at ``site`` with ``values``."""
    with pytest.raises(ValidationError) as refused:
        ReminderPolicy(location=site, **values).full_clean()
    return refused.value.message_dict


def test_the_clinic_defaults_pass_every_rule(site):
    ReminderPolicy(location=site).full_clean()


@pytest.mark.parametrize(("text", "words"), [
    ("Call us {phone", "a lone { or } cannot be sent"),
    ("Call us } {phone}", "a lone { or } cannot be sent"),
    ("{clinic:>900}: call {phone}", "its name alone"),
    ("{clinic.upper}: call {phone}", "its name alone"),
    ("{clinic}: today at {time[0]}", "its name alone"),
    ("{clinic!r}: call {phone}", "its name alone"),
    ("{clinic}: call {}", "its name alone"),
    ("{clinic}: call {0}", "its name alone"),
    ("{clinic}: see you at {hour}", "Unknown placeholder(s): hour"),
])
@pytest.mark.parametrize("field", ["day_before_template", "same_day_template", "outreach_template"])
def test_a_text_the_sending_code_cannot_render_as_written_is_refused_beside_its_field(site, field, text, words):
    assert any(words in message for message in refusal(site, **{field: text})[field])


def test_a_text_with_doubled_braces_is_kept_and_renders_them_as_single_braces(site):
    # given
    text = "{clinic}: reply {{C}} to confirm {time}"
    ReminderPolicy(location=site, same_day_template=text).full_clean()
    # when
    rendered = render(text, Session(location=site, start=local(site, date(2026, 3, 3), 10)))
    # then
    assert rendered.endswith("reply {C} to confirm 10:00 AM")


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"daily_cap": 0}, "daily_cap", "At least 1"),
    ({"weekly_cap": 0}, "weekly_cap", "At least 1"),
    ({"quiet_from": time(8), "quiet_until": time(8)}, "quiet_until", "must end at another time"),
    ({"quiet_from": time(8), "quiet_until": time(21)}, "quiet_from", "would text patients at night"),
    ({"quiet_from": time(1), "quiet_until": time(8)}, "quiet_from", "must cover the night"),
    ({"day_before_at": time(22)}, "day_before_at", "22:00 is inside the quiet hours (21:00 to 08:00)"),
    ({"day_before_at": time(7, 59)}, "day_before_at", "inside the quiet hours"),
    ({"same_day_hours_before": 13}, "same_day_hours_before", "At most 12 hours"),
    ({"same_day_hours_before": 1, "min_lead_minutes": 90}, "same_day_hours_before", "would never be sent"),
])
def test_each_policy_rule_is_refused_by_full_clean_beside_its_field(site, values, field, words):
    problems = refusal(site, **values)
    assert list(problems) == [field]
    assert words in problems[field][0]


@pytest.mark.parametrize("values", [
    {"day_before_enabled": False, "day_before_at": time(22)},
    {"same_day_enabled": False, "same_day_hours_before": 13},
    {"same_day_enabled": False, "same_day_hours_before": 1, "min_lead_minutes": 90},
    {"quiet_from": time(0), "quiet_until": time(8)},
    {"quiet_from": time(20), "quiet_until": time(9)},
])
def test_a_rule_about_a_reminder_that_is_off_or_quiet_hours_that_cover_the_night_passes(site, values):
    ReminderPolicy(location=site, **values).full_clean()


# --- the admin ----------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    return client


def admin_form(site, **changes) -> dict:
    """The admin's add form for ``site``'s policy, filled with the defaults and ``changes``."""
    values = {field.name: field.get_default() for field in ReminderPolicy._meta.concrete_fields
              if field.name not in ("id", "location")}
    values.update(changes)
    posted = {"location": site.pk}
    for name, value in values.items():
        if value is True:
            posted[name] = "on"
        elif isinstance(value, time):
            posted[name] = value.strftime("%H:%M")
        elif value is not False:
            posted[name] = str(value)
    return posted


def test_the_admin_refuses_a_text_and_a_rule_beside_their_fields(admin_client, site):
    # when
    response = admin_client.post("/admin/scheduling/reminderpolicy/add/",
                                 admin_form(site, outreach_template="{clinic.upper}", day_before_at=time(22)))
    # then
    assert response.status_code == 200  # the admin redraws its form with the errors
    errors = response.context["adminform"].form.errors
    assert "its name alone" in errors["outreach_template"][0]
    assert "inside the quiet hours" in errors["day_before_at"][0]
    assert not ReminderPolicy.objects.exists()


def test_the_admin_judges_no_rule_against_a_time_that_was_refused_itself(admin_client, site):
    # given quiet-until typed wrong: the rule on quiet hours is not judged against its default (08:00)
    response = admin_client.post("/admin/scheduling/reminderpolicy/add/",
                                 admin_form(site, quiet_from=time(8), quiet_until="25:00"))
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["quiet_until"] and "Enter a valid time" in errors["quiet_until"][0]


def test_a_policy_saved_in_the_admin_plans_the_sites_waiting_reminders_again(admin_client, site, chair, book):
    # given a visit on Wednesday with its reminders pending
    session = book(chair, local(site, date(2026, 3, 4), 10))
    # when the day-before reminder is turned off in the admin
    response = admin_client.post("/admin/scheduling/reminderpolicy/add/", admin_form(site, day_before_enabled=False))
    # then
    assert response.status_code == 302
    day_before = Reminder.objects.get(session=session, kind=ReminderKind.DAY_BEFORE)
    assert day_before.state == ReminderState.VOID
    assert Reminder.objects.get(session=session, kind=ReminderKind.SAME_DAY).state == ReminderState.PENDING
