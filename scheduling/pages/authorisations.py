"""Prior authorisations on the course's pages, and the printable renewal summary.

The course page lists a course's authorisations with their units ("3 of 8
used, ends 14 Jan"); a form adds one or edits one with the API's rules
(``protocols.authorisations``, through ``booking.authorisation_records``,
which also refreshes the course's worklist), with the service's words beside
the fields it names. The booking pages and the board's session panel
show the label of the authorisation a booking would use (``booking_context``,
``panel_authorisation``). Front desk, clinicians and managers all enter them
(docs/PERMISSIONS.md). Dates are the patient's home site's.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from clinic.errors import ClinicError, Invalid
from clinic.roles import role_required
from protocols.models import AuthorisationStatus, PriorAuthorisation, TreatmentCourse
from scheduling.booking.authorisation_records import record_authorisation, update_authorisation
from scheduling.booking.authorisations import AuthorisationUse, current_use, uses_for_courses
from scheduling.pages import course_or_404, local_today, record_patient_access
from scheduling.pages import renewal_summary as renewal_pages
from scheduling.pages.patient_page import home_location

FORM = "scheduling/pages/authorisation_form.html"
# What a booking refused for its authorisation says; a clinician or manager may go ahead with a reason.
REFUSAL_CODES = ("no_authorisation", "authorisation_units_used")


class AuthorisationForm(forms.Form):
    """What the desk types; the service judges the rest (approved needs units and days, days in order...)."""

    payer = forms.CharField(max_length=120)
    number = forms.CharField(max_length=60, required=False)
    status = forms.ChoiceField(choices=AuthorisationStatus.choices)
    units_approved = forms.IntegerField(min_value=1, max_value=999, required=False)
    first_day = forms.DateField(required=False)
    last_day = forms.DateField(required=False)
    submitted_on = forms.DateField()
    decided_on = forms.DateField(required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea)
    documents = forms.CharField(required=False, widget=forms.Textarea,
                                help_text="One reference a line (a fax number, a portal reference, a file name).")

    def clean_documents(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["documents"].splitlines() if line.strip()]


def _initial(authorisation: PriorAuthorisation | None, today: date) -> dict:
    if authorisation is None:
        return {"status": AuthorisationStatus.PENDING, "submitted_on": today.isoformat()}
    values = {name: getattr(authorisation, name) for name in AuthorisationForm.base_fields if name != "documents"}
    for name in ("first_day", "last_day", "submitted_on", "decided_on"):
        values[name] = values[name].isoformat() if values[name] else ""
    values["units_approved"] = "" if authorisation.units_approved is None else authorisation.units_approved
    values["documents"] = "\n".join(authorisation.documents or [])
    return values


def _render_form(request, course: TreatmentCourse, *, authorisation: PriorAuthorisation | None = None,
                 values: dict | None = None, error: ClinicError | None = None, status: int = 200):
    today = local_today(home_location(course.patient_id, request.user))
    return render(request, FORM, {
        "course": course,
        "patient": course.patient,
        "authorisation": authorisation,
        "statuses": AuthorisationStatus.choices,
        "values": values if values is not None else _initial(authorisation, today),
        "error": error,
        "field_errors": error.fields if error else {},
    }, status=status)


def _read_form(request) -> dict:
    """The form's values, typed; ``Invalid`` with every field's error when one cannot be read."""
    form = AuthorisationForm(request.POST)
    if not form.is_valid():
        fields = {name: list(messages) for name, messages in form.errors.items()}
        # The rules on the values that could be read, so the desk hears of every field at once rather than of
        # the days in the wrong order only once the units are fixed.
        try:
            PriorAuthorisation(**form.cleaned_data).clean()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                fields.setdefault(name, messages)
        raise Invalid("Check the authorisation's fields.", fields=fields)
    return form.cleaned_data


def _saved(course: TreatmentCourse):
    return redirect(f"{reverse('course-page', args=[course.pk])}?saved=authorisation#authorisations")


@require_http_methods(["GET", "POST"])
@role_required()
def authorisation_new(request, course_id: int):
    """Add a prior authorisation to the course (pending by default, sent today)."""
    course = course_or_404(course_id)
    record_patient_access(request, course.patient)
    if request.method == "GET":
        return _render_form(request, course)
    try:
        record_authorisation(by=request.user, course=course, values=_read_form(request))
    except ClinicError as error:
        return _render_form(request, course, values=request.POST, error=error, status=error.status)
    return _saved(course)


@require_http_methods(["GET", "POST"])
@role_required()
def authorisation_edit(request, authorisation_id: int):
    """Change an authorisation: the payer's answer, its units and days, its notes and documents."""
    authorisation = get_object_or_404(PriorAuthorisation, pk=authorisation_id)
    course = course_or_404(authorisation.course_id)
    record_patient_access(request, course.patient)
    if request.method == "GET":
        return _render_form(request, course, authorisation=authorisation)
    try:
        update_authorisation(by=request.user, authorisation=authorisation, values=_read_form(request))
    except ClinicError as error:
        authorisation.refresh_from_db()
        return _render_form(request, course, authorisation=authorisation, values=request.POST, error=error,
                            status=error.status)
    return _saved(course)


# --- what other pages show ------------------------------------------------------------------------------


def course_authorisations(course: TreatmentCourse) -> list[AuthorisationUse]:
    """The course's authorisations with their units, in first-day order (the course page's section)."""
    return uses_for_courses([course.pk])[course.pk]


def booking_context(course: TreatmentCourse, today: date, error: ClinicError | None) -> dict:
    """What the booking pages say of the course's authorisations: those still of use from ``today`` (approved
    and not yet over, or pending), whether the protocol requires one, and whether the refusal shown is one a
    clinician's or manager's reason can get past."""
    uses = [use for use in course_authorisations(course)
            if use.authorisation.status == AuthorisationStatus.PENDING
            or (use.authorisation.status == AuthorisationStatus.APPROVED and use.authorisation.last_day >= today)]
    return {
        "authorisation_uses": uses,
        "authorisation_required": course.protocol.requires_authorisation,
        "authorisation_refused": error is not None and error.code in REFUSAL_CODES,
    }


def _override_by(session) -> str:
    # Read only when a session carries an override, so the panel of a covered session costs no more.
    by = session.authorisation_override_by
    return (by.get_full_name() or by.username) if by is not None else ""


def panel_authorisation(session) -> dict:
    """The authorisation covering the session's day, for the board's panel (one query; none for history), and
    the reason a clinician or manager gave to book it beyond one, with who gave it (one more query, only then)."""
    if session.course_id is None:
        return {"authorisation_use": None, "authorisation_required": False, "authorisation_override_by": ""}
    return {"authorisation_use": current_use(session.course_id, session.local_date),
            "authorisation_required": session.course.protocol.requires_authorisation,
            "authorisation_override_by": _override_by(session) if session.authorisation_override_reason else ""}


urlpatterns = [
    path("courses/<int:course_id>/authorisations/new/", authorisation_new, name="authorisation-new"),
    path("authorisations/<int:authorisation_id>/edit/", authorisation_edit, name="authorisation-edit"),
    *renewal_pages.urlpatterns,
]
