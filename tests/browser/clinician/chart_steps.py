"""The clinician's browser tests' steps: sessions booked as having started minutes ago, charted through the
services as they happened, and the chart's forms filled as a clinician does."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.utils import timezone

from protocols.models import TreatmentCourse
from scheduling.booking import services as booking
from scheduling.charting import services as charting
from scheduling.models import Location, Session, VitalsKind
from tests.scheduling.stock.dose_lots import lot_named

LATE = "Charted from the paper notes after a busy morning"
NORMAL = {"systolic": 122, "diastolic": 78, "heart_rate": 72, "spo2": 98}


def this_minute() -> datetime:
    return timezone.now().replace(second=0, microsecond=0)


def book_started(course: TreatmentCourse, chair, by, *, minutes_ago: int) -> Session:
    """Session 1 of ``course``, booked (as if beforehand) to have started ``minutes_ago`` minutes ago."""
    start = this_minute() - timedelta(minutes=minutes_ago)
    return booking.book_session(by=by, course=course, chair=chair, start=start, now=start)


def at(session: Session, minutes: int) -> datetime:
    """``minutes`` after the session's start."""
    return session.start + timedelta(minutes=minutes)


def time_field(site: Location, instant: datetime) -> str:
    """``instant`` as a time input takes it and the chart shows it: ``HH:MM`` local time at the site."""
    return site.local(instant).strftime("%H:%M")


def chart_before(session: Session, clinician, *, dose_at: int = 10, discharge_at: int | None = None) -> None:
    """Chart ``session`` through the services as it happened: check-in at +2, pre-dose vitals at +5 minutes,
    the first device at ``dose_at``; with ``discharge_at``, 40-minute vitals, an assessment, discharge vitals and
    the discharge itself."""
    charting.check_in(by=clinician, session=session, fasted_food_2h=True, fasted_drink_30m=True,
                      nasal_medicines_ok=True, ride_home_arranged=True, now=at(session, 2))
    charting.record_vitals(by=clinician, session=session, kind=VitalsKind.PRE_DOSE, now=at(session, 5), **NORMAL)
    charting.record_dose(by=clinician, session=session, dose_mg=56, lot=lot_named(session.location, "LOT-4471"),
                         now=at(session, dose_at))
    if discharge_at is None:
        return
    charting.record_vitals(by=clinician, session=session, kind=VitalsKind.POST_DOSE_40, now=at(session, dose_at + 40),
                           **{**NORMAL, "systolic": 136})
    charting.record_assessment(by=clinician, session=session, sedation="mild", dissociation="mild",
                               respiratory="normal", now=at(session, dose_at + 60))
    charting.record_vitals(by=clinician, session=session, kind=VitalsKind.DISCHARGE, now=at(session, discharge_at - 5),
                           **NORMAL)
    charting.discharge(by=clinician, session=session, resolution_attested=True, driver="Her sister",
                       could_have_left_after_minutes=90, now=at(session, discharge_at))


def late(form, reason: str) -> None:
    """Give the reason for a late entry (a time more than 15 minutes before it is entered)."""
    form.get_by_label("Reason, if entered more than 15 minutes after the fact").fill(reason)


def record_vitals(form, values: dict, *, taken_at: str, kind: str | None = None, late_reason: str = "") -> None:
    if kind is not None:
        form.get_by_label("Reading").select_option(label=kind)
    form.get_by_label("Systolic (mmHg)").fill(str(values["systolic"]))
    form.get_by_label("Diastolic (mmHg)").fill(str(values["diastolic"]))
    form.get_by_label("Heart rate (/min)").fill(str(values["heart_rate"]))
    form.get_by_label("SpO2 (%)").fill(str(values["spo2"]))
    form.get_by_label(re.compile(r"^Time taken")).fill(taken_at)
    if late_reason:
        late(form, late_reason)
    form.get_by_role("button", name="Record vital signs").click()
