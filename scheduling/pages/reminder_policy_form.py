"""A site's reminder policy as the manager's page edits it: the form, the previews, the defaults.

The rules are the model's, run by the ModelForm's ``full_clean``: ``ReminderPolicy``'s fields, its
``validate_template`` on each text (forbidden words, a text ``str.format`` cannot render as written,
unknown placeholders), and its ``clean`` (``policy_problems``: caps of at least 1, quiet hours that are
a period covering the night, a day-before time outside them, a same-day lead the last-minute rule lets
through), each refusal beside its field. Previews render each text with the functions that send it
(``reminders.render``, ``outreach.render_outreach``) and count it with ``sms_parts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError

from scheduling.messaging.desk_texts import GSM_BASIC, GSM_EXTENDED, Parts, sms_parts
from scheduling.messaging.outreach import render_outreach
from scheduling.messaging.reminders import render
from scheduling.models import Location, ReminderPolicy, Session

FIELDS = ("day_before_enabled", "day_before_at", "same_day_enabled", "same_day_hours_before", "quiet_from",
          "quiet_until", "daily_cap", "weekly_cap", "min_lead_minutes", "day_before_template", "same_day_template",
          "outreach_template")


@dataclass(frozen=True)
class TextKind:
    name: str  # the preview's ``kind``
    field: str
    label: str
    when: str  # when the text goes, for the form's hint


TEXTS = (
    TextKind("day_before", "day_before_template", "Day-before reminder", "the day before the visit"),
    TextKind("same_day", "same_day_template", "Same-day reminder", "on the day, a few hours before"),
    TextKind("outreach", "outreach_template", "Due-visit outreach", "when the next visit is due and not booked"),
)
TEXT_KINDS = {kind.name: kind for kind in TEXTS}

# The sample visit a preview is rendered for: tomorrow at the site, at this local time.
SAMPLE_AT = time(10, 30)
# The longest words a date and time render to ("Wednesday September 30", "10:45 AM"): a text that fits in one
# part on a short date may need two on this one.
LONGEST_AT = time(10, 45)


class PolicyFormBase(forms.ModelForm):
    """A ModelForm of ``ReminderPolicy`` (the page's and the admin's) whose ``full_clean`` judges each rule of
    ``ReminderPolicy.clean`` on what was typed: a field refused by its own check is left out (None on the
    instance) rather than judged at its default, so no rule is said against a value the person never wrote."""

    def _post_clean(self):
        for name in self._errors or ():
            if name in self.fields and name in {field.name for field in ReminderPolicy._meta.concrete_fields}:
                setattr(self.instance, name, None)
        super()._post_clean()


class ReminderPolicyForm(PolicyFormBase):
    """The policy's fields under the model's rules (its validators, ``clean``, the caps constraint)."""

    class Meta:
        model = ReminderPolicy
        fields = FIELDS
        labels = {
            "day_before_enabled": "Send the day-before reminder",
            "day_before_at": "Day-before reminder at (local time)",
            "same_day_enabled": "Send the same-day reminder",
            "same_day_hours_before": "Same-day reminder, hours before the visit",
            "quiet_from": "Quiet from (local time)",
            "quiet_until": "Quiet until (local time)",
            "daily_cap": "At most, texts a day to one patient",
            "weekly_cap": "At most, texts in 7 days to one patient",
            "min_lead_minutes": "Never send when the visit is closer than (minutes)",
            "day_before_template": "Day-before text",
            "same_day_template": "Same-day text",
            "outreach_template": "Due-visit outreach text",
        }
        help_texts = {
            "daily_cap": "The FCC's healthcare exemption allows 1 a day.",
            "weekly_cap": "The FCC's healthcare exemption allows 3 a week.",
            "quiet_from": "", "quiet_until": "", "day_before_at": "", "min_lead_minutes": "",
        }
        widgets = {
            "day_before_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_from": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_until": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            **{kind.field: forms.Textarea(attrs={"rows": 4}) for kind in TEXTS},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("daily_cap", "weekly_cap"):
            self.fields[name].widget.attrs["min"] = 1


# --- the policy in force and its defaults -----------------------------------------------------------------


def defaults() -> dict:
    """The clinic's defaults (docs/DOMAIN.md "Reminder texts"), as the model declares them."""
    return {name: ReminderPolicy._meta.get_field(name).get_default() for name in FIELDS}


# The short names a change is said by, in the status line and in the policy's history.
FIELD_WORDS = {
    "day_before_enabled": "day-before reminder", "day_before_at": "day-before time",
    "same_day_enabled": "same-day reminder", "same_day_hours_before": "same-day hours before",
    "quiet_from": "quiet from", "quiet_until": "quiet until", "daily_cap": "daily cap", "weekly_cap": "weekly cap",
    "min_lead_minutes": "last-minute limit (minutes)", "day_before_template": "day-before text",
    "same_day_template": "same-day text", "outreach_template": "outreach text",
}


def shown(value) -> str:
    """A setting's value as the page says it: on/off, 17:00, 3."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return str(value)


def changed_fields(policy: ReminderPolicy) -> list[str]:
    """What ``policy`` changed from the clinic's defaults, in words ([] for the defaults)."""
    base = defaults()
    return [FIELD_WORDS[name] if name.endswith("_template")
            else f"{FIELD_WORDS[name]} {shown(getattr(policy, name))} (default {shown(base[name])})"
            for name in FIELDS if getattr(policy, name) != base[name]]


# --- previews -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    kind: TextKind
    text: str  # as a patient at the site reads it for the sample visit ("" when it cannot be rendered)
    parts: Parts | None
    longest: Parts | None  # on the longest date and time
    problem: str  # why it cannot be sent, as the form would say it
    outside_gsm: str = ""  # the characters that make it travel as UCS-2, each once


def sample_start(location: Location, now: datetime) -> datetime:
    """The sample visit: tomorrow at ``SAMPLE_AT``, the site's local time."""
    return location.at(location.local_date(now) + timedelta(days=1), SAMPLE_AT)


def sample_words(location: Location, now: datetime) -> str:
    """The sample visit in the words the texts use: ``Tuesday March 3 at 10:30 AM``."""
    return render("{day} at {time}", Session(location=location, start=sample_start(location, now)))


def _longest_start(location: Location, now: datetime) -> datetime:
    year = location.local_date(now).year
    while date(year, 9, 30).weekday() != 2:  # a Wednesday September 30th
        year += 1
    return location.at(date(year, 9, 30), LONGEST_AT)


def rendered(kind: TextKind, template: str, location: Location, start: datetime) -> str:
    """``template`` as the sending code renders it for a visit at ``location`` starting at ``start``."""
    if kind.name == "outreach":
        return render_outreach(template, location=location, due_on=location.local_date(start))
    return render(template, Session(location=location, start=start))


def preview(kind: TextKind, template: str, location: Location, now: datetime) -> Preview:
    """The text a patient at ``location`` would get, its length and SMS parts, or why it cannot be sent."""
    problem = ""
    try:
        ReminderPolicy._meta.get_field(kind.field).run_validators(template)
    except ValidationError as error:
        problem = " ".join(error.messages)
    if not template.strip():
        problem = "Write the text."
    if problem:
        return Preview(kind, "", None, None, problem)
    text = rendered(kind, template, location, sample_start(location, now))
    longest = rendered(kind, template, location, _longest_start(location, now))
    return Preview(kind, text, sms_parts(text), sms_parts(longest), "", outside_gsm(text))


def outside_gsm(text: str) -> str:
    """The characters of ``text`` outside the GSM alphabet (it then travels as UCS-2), each once, in order."""
    return " ".join(dict.fromkeys(char for char in text if char not in GSM_BASIC and char not in GSM_EXTENDED))
