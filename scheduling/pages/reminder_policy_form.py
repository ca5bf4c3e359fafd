"""A site's reminder policy as the manager's page edits it: the form, its rules, the previews, the defaults.

The rules are the model's (``ReminderPolicy``'s fields, its ``validate_template`` on each text,
its ``reminder_caps_positive`` constraint, all run by the ModelForm's ``full_clean``), plus the
ones a policy needs to work as the sending code reads it (``policy_problems``): quiet hours that
are a period, a day-before time outside them, a same-day lead the last-minute rule lets through,
and a text that the sending code can render. Previews render each text with the functions that
send it (``reminders.render``, ``outreach.render_outreach``) and count it with ``sms_parts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from string import Formatter

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

# Quiet hours always cover these hours of the night (00:00 to 05:00), whatever else a site chooses.
NIGHT_HOURS = tuple(range(0, 5))
SAME_DAY_MAX_HOURS = 12
# The sample visit a preview is rendered for: tomorrow at the site, at this local time.
SAMPLE_AT = time(10, 30)
# The longest words a date and time render to ("Wednesday September 30", "10:45 AM"): a text that fits in one
# part on a short date may need two on this one.
LONGEST_AT = time(10, 45)


class ReminderPolicyForm(forms.ModelForm):
    """The policy's fields; the model's validators and constraint, then ``policy_problems``."""

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
        # The database's constraint ``reminder_caps_positive`` holds the caps at 1 or more; said here beside the
        # field rather than as a constraint's message above the form.
        for name in ("daily_cap", "weekly_cap"):
            self.fields[name].validators.append(at_least_one)
            self.fields[name].widget.attrs["min"] = 1

    def clean(self):
        cleaned = super().clean()
        for field, words in policy_problems(cleaned).items():
            if field not in self.errors:
                self.add_error(field, words)
        return cleaned

    def _post_clean(self):
        super()._post_clean()  # the model's validators: a forbidden word or an unknown placeholder is said first
        for kind in TEXTS:
            problem = render_problem(self.cleaned_data.get(kind.field) or "")
            if problem and kind.field not in self.errors:
                self.add_error(kind.field, problem)


def at_least_one(value) -> None:
    if value is not None and value < 1:
        raise ValidationError("At least 1: a cap of 0 would stop every text; turn a reminder off instead.")


def policy_problems(values: dict) -> dict[str, str]:
    """What stops a policy with these values from working as the sending code reads it, by field.

    - quiet hours from and until the same time would be no quiet hours at all (texts at any hour), and
      quiet hours that leave the small hours open (08:00 to 21:00, the two times swapped) would move
      every reminder into the night (docs/DOMAIN.md: never between 21:00 and 08:00 by default);
    - a day-before time inside quiet hours would be moved by the planner to another time than the one set;
    - a same-day reminder more than ``SAME_DAY_MAX_HOURS`` before the visit is no longer on the day, and one
      planned closer to the visit than the last-minute limit would always be skipped.

    (A text the sending code cannot render is refused after the model's own checks: ``render_problem``.)
    """
    problems: dict[str, str] = {}
    quiet_from, quiet_until = values.get("quiet_from"), values.get("quiet_until")
    if quiet_from is not None and quiet_until is not None:
        probe = ReminderPolicy(quiet_from=quiet_from, quiet_until=quiet_until)
        if quiet_from == quiet_until:
            problems["quiet_until"] = "Quiet hours must end at another time than they start (e.g. 21:00 to 08:00)."
        elif not all(probe.in_quiet_hours(time(hour)) for hour in NIGHT_HOURS):
            problems["quiet_from"] = (f"Quiet hours must cover the night (at least {NIGHT_HOURS[0]:02}:00 to "
                                      f"{NIGHT_HOURS[-1] + 1:02}:00); {quiet_from:%H:%M} to {quiet_until:%H:%M} "
                                      "would text patients at night. Were the two times swapped?")
        else:
            at = values.get("day_before_at")
            if values.get("day_before_enabled") and at is not None and probe.in_quiet_hours(at):
                problems["day_before_at"] = (f"{at:%H:%M} is inside the quiet hours ({quiet_from:%H:%M} to "
                                             f"{quiet_until:%H:%M}): choose a time outside them.")
    hours, lead = values.get("same_day_hours_before"), values.get("min_lead_minutes")
    if values.get("same_day_enabled") and hours is not None and hours > SAME_DAY_MAX_HOURS:
        problems["same_day_hours_before"] = (f"At most {SAME_DAY_MAX_HOURS} hours: it is the reminder on the day; "
                                             "the day-before reminder covers the evening before.")
    elif values.get("same_day_enabled") and hours is not None and lead is not None and hours * 60 < lead:
        problems["same_day_hours_before"] = (
            f"{hours} hour{'s' if hours != 1 else ''} before is closer than the {lead} minutes a reminder must "
            "leave: the same-day reminder would never be sent.")
    return problems


def render_problem(template: str) -> str:
    """Why the sending code could not render ``template`` as written, or "".

    The texts are rendered with ``str.format``: a stray ``{`` or ``}`` fails when the
    text is sent, and a placeholder with more than its name (``{clinic:>900}``,
    ``{clinic.upper}``) renders something other than the name, or fails.
    """
    plain = "Write placeholders as {clinic}, {day}, {time}...; a lone { or } cannot be sent."
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in Formatter().parse(template)
                  if name is not None]
        render_outreach(template, location=Location(name="x"), due_on=date(2026, 1, 1))
    except (ValueError, KeyError, IndexError, AttributeError):
        return plain
    if any(spec or conversion or not name.isidentifier() for name, spec, conversion in fields):
        return "Write each placeholder as its name alone, e.g. {clinic}: no : . [ ] or ! inside the braces."
    return ""


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
    problem = problem or render_problem(template)
    if problem:
        return Preview(kind, "", None, None, problem)
    text = rendered(kind, template, location, sample_start(location, now))
    longest = rendered(kind, template, location, _longest_start(location, now))
    return Preview(kind, text, sms_parts(text), sms_parts(longest), "", outside_gsm(text))


def outside_gsm(text: str) -> str:
    """The characters of ``text`` outside the GSM alphabet (it then travels as UCS-2), each once, in order."""
    return " ".join(dict.fromkeys(char for char in text if char not in GSM_BASIC and char not in GSM_EXTENDED))
