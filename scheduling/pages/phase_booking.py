"""Booking a whole phase: suggest, preview, then confirm; nothing is booked before the confirmation.

The form's first guess comes from the protocol's cadence on the chosen site's
open days (``booking.phase_defaults``); changing the chair suggests again for
its site. "Preview" is a dry run (``series.plan_series``): every occurrence with
its problems and the nearest free alternative, which is one click ("Use this
time": the series is planned again at that chair and time, on that weekday).
Only a preview where every session fits offers "Book all N sessions", which
books exactly what was previewed (``series.book_series``, all or none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.errors import ClinicError, Invalid
from clinic.roles import CLINICIAN, MANAGER, has_role, role_required
from protocols.models import TreatmentCourse
from scheduling.booking import phase_defaults, series
from scheduling.booking import selectors as booking_selectors
from scheduling.models import Chair, Location
from scheduling.pages import (
    chairs_for,
    course_or_404,
    day_words,
    error_status,
    home_location,
    local_instant,
    local_today,
    parse_day,
    record_patient_access,
    window_words,
)
from scheduling.pages.authorisations import booking_context

WEEKDAYS = ((0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"),
            (6, "Sunday"))


@dataclass(frozen=True)
class OccurrenceRow:
    """One proposed session of a series, as the preview shows it (wall-clock times at the chair's location)."""

    number: int
    phase: str
    starts: datetime
    ends: datetime
    earliest: date
    target: date
    latest: date
    problems: list[dict]
    alternative: dict | None  # {"starts": datetime, "chair_name": str, "chair_id": int}


def _alternative(starts: datetime, chair_name: str, chair_id: int) -> dict:
    return {"starts": starts, "chair_name": chair_name, "chair_id": chair_id}


def _rows_from_occurrences(occurrences: list[series.Occurrence], location: Location) -> list[OccurrenceRow]:
    rows = []
    for occurrence in occurrences:
        alternative = occurrence.alternative
        rows.append(OccurrenceRow(
            number=occurrence.number, phase=occurrence.phase,
            starts=location.local(occurrence.start).replace(tzinfo=None),
            ends=location.local(occurrence.end).replace(tzinfo=None),
            earliest=occurrence.due.earliest, target=occurrence.due.target, latest=occurrence.due.latest,
            problems=occurrence.problems,
            alternative=None if alternative is None else _alternative(
                alternative.chair.location.local(alternative.start).replace(tzinfo=None), alternative.chair.name,
                alternative.chair.pk),
        ))
    return rows


def _rows_from_conflict(error: ClinicError) -> list[OccurrenceRow]:
    """The occurrences a ``series_conflict`` lists (as the API serialises them)."""
    rows = []
    for item in error.extra.get("occurrences", []):
        alternative = item.get("alternative")
        rows.append(OccurrenceRow(
            number=item["number"], phase=item["phase"],
            starts=datetime.fromisoformat(item["start"]).replace(tzinfo=None),
            ends=datetime.fromisoformat(item["end"]).replace(tzinfo=None),
            earliest=date.fromisoformat(item["due"]["earliest"]), target=date.fromisoformat(item["due"]["target"]),
            latest=date.fromisoformat(item["due"]["latest"]), problems=item["problems"],
            alternative=None if not alternative else _alternative(
                datetime.fromisoformat(alternative["start"]).replace(tzinfo=None), alternative["chair_name"],
                alternative["chair"]),
        ))
    return rows


def _default_chair(course: TreatmentCourse, chairs: list[Chair], user, chair_id: str = "") -> Chair | None:
    """The chair asked for, else one where the patient was last seen (or the user works), else the first."""
    asked = next((chair for chair in chairs if str(chair.pk) == chair_id), None)
    if asked is not None:
        return asked
    home = home_location(course.patient, user)
    return next((chair for chair in chairs if home and chair.location_id == home.pk), chairs[0] if chairs else None)


def _phase_defaults(course: TreatmentCourse, chair: Chair | None, user) -> dict:
    """The form's first guess at ``chair``'s site: the protocol's cadence on its open days, from the
    phase's target day (or the open day nearest it), at 09:00 where the site is open then."""
    location = chair.location if chair else home_location(course.patient, user)
    now = timezone.now()
    today = local_today(location, now)
    window = booking_selectors.due_window_for_booking(course) if course.is_open else None
    if location is None:
        return {"first_date": today.isoformat(), "time": phase_defaults.DEFAULT_TIME.strftime("%H:%M"),
                "weekdays": [str(today.weekday())], "chair": ""}
    spacing = course.protocol.rule().phases[window.phase_index].spacing if window else None
    guess = phase_defaults.guess_series(window=window, spacing=spacing,
                                        calendar=booking_selectors.site_calendar(location),
                                        chair_minutes=course.protocol.chair_minutes, today=today, now=now)
    return {"first_date": guess.first_date.isoformat(), "time": guess.clock.strftime("%H:%M"),
            "weekdays": [str(day) for day in guess.weekdays], "chair": str(chair.pk) if chair else ""}


def _phase_values(data) -> dict:
    return {"first_date": data.get("first_date", ""), "time": data.get("time", ""),
            "weekdays": data.getlist("weekdays"), "chair": data.get("chair", ""),
            "authorisation_reason": data.get("authorisation_reason", "")}


def _with_alternative(values: dict, choice: str) -> dict:
    """The series moved onto an alternative ``<chair>|<start>|<day it replaces>``: that chair and time, and
    that weekday instead of the replaced one's (the first date moves with it when it fell on that weekday)."""
    try:
        chair_id, start_text, replaced_text = choice.split("|")
        start, replaced = datetime.fromisoformat(start_text), date.fromisoformat(replaced_text)
        int(chair_id)
    except ValueError:
        raise Invalid("That alternative cannot be read.", fields={"alternative": ["Choose an alternative."]}) \
            from None
    weekdays = set(values["weekdays"])
    first_date = values["first_date"]
    if start.weekday() != replaced.weekday():
        weekdays = (weekdays - {str(replaced.weekday())}) | {str(start.weekday())}
        try:
            first = date.fromisoformat(first_date)
        except ValueError:
            first = None
        if first is not None and first.weekday() == replaced.weekday():
            first_date = (first + timedelta(days=(start.date() - replaced).days)).isoformat()
    return {"first_date": first_date, "time": start.strftime("%H:%M"), "weekdays": sorted(weekdays),
            "chair": chair_id}


def _series_arguments(request, course: TreatmentCourse, values: dict) -> dict:
    """The series the form describes, as ``plan_series`` / ``book_series`` arguments; ``Invalid`` names the field."""
    chair_id = values["chair"]
    chair = Chair.objects.select_related("location").filter(pk=int(chair_id)).first() if chair_id.isdigit() else None
    if chair is None:
        raise Invalid("Choose a chair.", fields={"chair": ["Choose a chair."]})
    first_date = parse_day(values["first_date"], "first_date")
    if first_date is None:
        raise Invalid("Choose the first date.", fields={"first_date": ["Choose the first date."]})
    clock = (values["time"] or "").strip()
    if not clock:
        raise Invalid("Choose the time.", fields={"time": ["Choose the time."]})
    try:
        weekdays = sorted({int(day) for day in values["weekdays"]})
    except ValueError:
        raise Invalid("Choose weekdays from the list.", fields={"weekdays": ["Choose weekdays from the list."]}) \
            from None
    first_start = local_instant(f"{first_date.isoformat()}T{clock}", chair.location, "time")
    return {"by": request.user, "course": course, "chair": chair, "first_start": first_start, "weekdays": weekdays}


# The series services name their fields as the API does; the form's fields are finer.
_SERIES_FIELD_NAMES = {"first_start": "first_date"}


def _field_errors(error: ClinicError) -> dict[str, list[str]]:
    return {_SERIES_FIELD_NAMES.get(name, name): list(messages_) for name, messages_ in error.fields.items()}


def _book_phase_context(request, course: TreatmentCourse, *, values: dict | None = None,
                        rows: list[OccurrenceRow] | None = None, error: ClinicError | None = None,
                        suggested: bool = False) -> dict:
    window = booking_selectors.due_window_for_booking(course) if course.is_open else None
    problems = sum(1 for row in rows or () if row.problems)
    chairs = chairs_for(course)
    chair = _default_chair(course, chairs, request.user, (values or request.GET).get("chair", ""))
    site = chair.location if chair else None
    open_days = set(booking_selectors.site_calendar(site).hours) if site else set(range(7))
    # Sessions whose only problem is the prior authorisation: a clinician or a manager books them with a reason.
    troubled = [row for row in rows or () if row.problems]
    authorisation_only = bool(troubled) and all(problem["code"] in series.AUTHORISATION_CODES
                                                for row in troubled for problem in row.problems)
    may_override = has_role(request.user, CLINICIAN, MANAGER)
    fits = not problems or (authorisation_only and may_override)
    return {
        "course": course,
        "patient": course.patient,
        "window": window,
        "window_words": window_words(window) if window else "",
        "chairs": chairs,
        "site": site,
        "weekday_choices": [(number, name, number not in open_days) for number, name in WEEKDAYS],
        "values": values or _phase_defaults(course, chair, request.user),
        "suggested": suggested,
        "rows": rows,
        "problem_count": problems,
        # "Book all" books what the preview showed, so it is offered only for a preview where all fit.
        "confirmable": bool(rows) and fits and (error is None or error.code == "series_conflict"),
        "authorisation_only": authorisation_only,
        "may_override_authorisation": may_override,
        "authorisation_reason": (values or {}).get("authorisation_reason", ""),
        **booking_context(course, local_today(site or home_location(course.patient, request.user)), error),
        "error": error,
        "field_errors": _field_errors(error) if error else {},
    }


@require_http_methods(["GET", "POST"])
@role_required()
def book_phase(request, course_id: int):
    """GET: the form with the suggested series (for htmx, after a change of chair, the form alone, suggested
    again for the chair's site). POST: book every remaining session of the phase, all or none."""
    course = course_or_404(course_id)
    record_patient_access(request, course.patient)
    if request.method == "GET":
        context = _book_phase_context(request, course, suggested="chair" in request.GET)
        template = "scheduling/pages/_phase_booking.html" if request.htmx else "scheduling/pages/book_phase.html"
        return render(request, template, context)
    values = _phase_values(request.POST)
    try:
        arguments = _series_arguments(request, course, values)
        occurrences = series.book_series(**arguments, authorisation_reason=values["authorisation_reason"].strip())
    except ClinicError as error:
        rows = _rows_from_conflict(error) if error.code == "series_conflict" else None
        context = _book_phase_context(request, course, values=values, rows=rows, error=error)
        return render(request, "scheduling/pages/book_phase.html", context, status=error_status(error))
    location = arguments["chair"].location
    first, last = (location.local(occurrences[0].start), location.local(occurrences[-1].start))
    messages.success(request, f"Booked {len(occurrences)} sessions for {course.patient.display_name}, "
                              f"{day_words(first.date())} to {day_words(last.date())} at {first:%H:%M} "
                              f"({arguments['chair'].name}, {location.name}).")
    return redirect("patient-page", patient_id=course.patient_id)


@require_POST
@role_required()
def book_phase_preview(request, course_id: int):
    """A dry run of the series (or of the series moved onto a chosen alternative): every occurrence with
    its problems and the nearest free alternative; nothing is booked."""
    course = course_or_404(course_id)
    record_patient_access(request, course.patient)
    values = _phase_values(request.POST)
    status, rows, error = 200, None, None
    try:
        if request.POST.get("alternative"):
            values = _with_alternative(values, request.POST["alternative"])
        arguments = _series_arguments(request, course, values)
        rows = _rows_from_occurrences(series.plan_series(**arguments), arguments["chair"].location)
    except ClinicError as refusal:
        status, error = refusal.status, refusal
    context = _book_phase_context(request, course, values=values, rows=rows, error=error)
    template = "scheduling/pages/_phase_booking.html" if request.htmx else "scheduling/pages/book_phase.html"
    return render(request, template, context, status=status)
