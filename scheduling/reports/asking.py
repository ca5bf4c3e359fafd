"""What a manager asks the numbers for: the period and the site, read from a query string (API and pages alike)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from scheduling.models import Location
from scheduling.reports.period import KINDS, Period, period_from


class ReportQueryForm(forms.Form):
    """``period=week|month|quarter|custom`` (default month), ``anchor``, ``start``, ``end``, ``location``."""

    period = forms.ChoiceField(choices=[(kind, kind.title()) for kind in KINDS], required=False)
    anchor = forms.DateField(required=False, help_text="A day in the week, month or quarter (default today).")
    start = forms.DateField(required=False, help_text="Custom: the first day.")
    end = forms.DateField(required=False, help_text="Custom: the last day.")
    location = forms.ModelChoiceField(Location.objects.all(), required=False, empty_label="All sites")


@dataclass(frozen=True)
class Asked:
    period: Period
    location: Location | None

    @property
    def location_id(self) -> int | None:
        return self.location.pk if self.location else None


def asked(query: Mapping, *, now: datetime | None = None) -> Asked:
    """The period and site ``query`` asks for; ``ValidationError({field: [message]})`` when it cannot be read.

    "Today" (the default anchor) is the site's local day, or the clinic's for all sites.
    """
    form = ReportQueryForm(data={key: query.get(key) for key in ReportQueryForm.base_fields if key in query})
    if not form.is_valid():
        raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
    data = form.cleaned_data
    location = data["location"]
    now = now or timezone.now()
    today = location.local_date(now) if location else timezone.localdate(now)
    period = period_from(kind=data["period"] or "month", anchor=data["anchor"], start=data["start"], end=data["end"],
                         today=today)
    return Asked(period=period, location=location)
