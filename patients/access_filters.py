"""What the access log is asked for, read one way for the managers' page and the API.

``from`` and ``to`` are days on the manager's clock: the zone of her site,
which only scheduling knows, so it comes through ``services.home_zone`` (the
hook scheduling registers at start-up; the clinic's ``TIME_ZONE`` when no site
answers). A day is its whole local day, 23 or 25 hours on the nights the
clocks change, so an opening at 23:30 in New York is on that day, not on
UTC's next one. The API also takes an instant for either end (ISO 8601; with
an offset as written, without one on the same clock); ``to`` as an instant is
exclusive, as a day inclusive.

Every field that cannot be read is refused at once, each with its message, as
``clinic.errors.Invalid``: the API answers it as a 400, the page redraws its
form with the messages beside the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.contrib.auth import get_user_model

from clinic import dates
from clinic.errors import Invalid
from patients import services
from patients.models import Patient, PatientAccess

FIELDS = ("patient", "q", "user", "channel", "from", "to")
DAY_OR_INSTANT = "Use a date (YYYY-MM-DD), or a date and time (YYYY-MM-DDTHH:MM, an offset optional)."


@dataclass(frozen=True)
class AccessLogQuery:
    """The filters as read: the patient and user they name, and the instants the days stand for."""

    zone: tzinfo
    patient: Patient | None = None
    search: str = ""  # a patient's name or MRN, as typed
    user: object | None = None
    channel: str = ""
    day_from: date | None = None  # the days as typed, for the page's fields; None for an instant
    day_to: date | None = None
    since: datetime | None = None  # openings at or after this instant
    before: datetime | None = None  # ... and before this one

    @property
    def narrowed(self) -> bool:
        return any((self.patient, self.search, self.user, self.channel, self.since, self.before))

    def selector_arguments(self) -> dict:
        """Keyword arguments for ``selectors.access_log``."""
        return {"patient_id": self.patient.pk if self.patient else None, "patient_search": self.search or None,
                "user_id": self.user.pk if self.user else None, "channel": self.channel or None,
                "since": self.since, "before": self.before}


def manager_zone(user) -> tzinfo:
    """The zone a manager reads the log in: her first site's, else the first site's, else ``TIME_ZONE``."""
    return services.home_zone(patient_id=None, user=user)


def read_access_query(params: Mapping[str, str], *, zone: tzinfo, instants: bool) -> AccessLogQuery:
    """The filters in ``params`` (``patient, q, user, channel, from, to``); ``Invalid`` naming every bad one.

    ``instants`` lets ``from``/``to`` be instants as well as days (the API);
    the page's date fields send days only.
    """
    errors: dict[str, list[str]] = {}
    values: dict = {"zone": zone, "search": (params.get("q") or "").strip()}
    patient_id = _record_id(params.get("patient"), "patient", errors)
    if patient_id is not None:
        values["patient"] = Patient.objects.filter(pk=patient_id).first()
        if values["patient"] is None:
            errors["patient"] = [f"There is no patient with the id {patient_id}."]
    user_id = _record_id(params.get("user"), "user", errors)
    if user_id is not None:
        values["user"] = get_user_model().objects.filter(pk=user_id).first()
        if values["user"] is None:
            errors["user"] = [f"There is no member of staff with the id {user_id}."]
    channel = (params.get("channel") or "").strip()
    if channel and channel not in PatientAccess.Channel.values:
        errors["channel"] = [f"Choose one of: {', '.join(PatientAccess.Channel.values)}."]
    values["channel"] = channel
    for field, end_of_day in (("from", False), ("to", True)):
        try:
            day, instant = _day_or_instant(params.get(field), field, zone, instants=instants, end_of_day=end_of_day)
        except Invalid as error:
            errors.update(error.fields)
            continue
        values["day_from" if field == "from" else "day_to"] = day
        values["since" if field == "from" else "before"] = instant
    since, before = values.get("since"), values.get("before")
    if since is not None and before is not None and since >= before and "to" not in errors:
        errors["to"] = ["Must be on or after “from”." if values.get("day_to") else "Must be after “from”."]
    if errors:
        raise Invalid("Check the filters: " + " ".join(f"{field}: {' '.join(messages)}"
                                                       for field, messages in errors.items()), fields=errors)
    return AccessLogQuery(**values)


def _record_id(text: str | None, field: str, errors: dict) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or int(text) < 1 or int(text) > 2**63 - 1:
        errors[field] = [f"“{text}” is not an id: use the number of the {field} (a link gives it)."]
        return None
    return int(text)


def _day_or_instant(text: str | None, field: str, zone: tzinfo, *, instants: bool, end_of_day: bool
                    ) -> tuple[date | None, datetime | None]:
    """``(day, the instant it starts)`` for a day (``to``: the next day's start), ``(None, instant)`` for an
    instant, ``(None, None)`` for nothing."""
    text = (text or "").strip()
    if not text:
        return None, None
    if len(text) <= 10 or not instants:
        try:
            day = dates.parse_day(text, field)
        except Invalid as error:
            if error.fields.get(field) == [dates.OUT_OF_RANGE]:
                raise
            hint = DAY_OR_INSTANT if instants else "Use a date (YYYY-MM-DD)."
            raise Invalid(f"“{text}” is not a date.", fields={field: [f"“{text}” is not a date. {hint}"]}) \
                from None
        starts = day + timedelta(days=1) if end_of_day else day
        # Like ``Location.day_bounds``: where a zone skips midnight, the day starts at the first instant it has.
        return day, datetime.combine(starts, time(0), tzinfo=zone)
    try:
        datetime.fromisoformat(text)
    except ValueError:
        message = f"“{text}” is not a date or a date and time."
        raise Invalid(message, fields={field: [f"{message} {DAY_OR_INSTANT}"]}) from None
    return None, dates.parse_instant(text, zone, field)  # refuses a date out of range, an hour the clocks skip
