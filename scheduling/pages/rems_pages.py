"""REMS Patient Monitoring Forms: the list by urgency, the printable form, marking it submitted.

The form's content and what it lacks come from ``rems.form_content`` (a
submitted form shows what the REMS received); submission goes through
``rems.submit_form``, which refuses an incomplete form in its own words.
The content keeps ISO dates (it is what the API and the REMS get); the page
shows them in the clinic's words ("Tue Mar 3, 2026"). Each patient is shown
with date of birth and MRN, so two patients of one name are told apart.
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.errors import ClinicError
from clinic.roles import CLINICIAN, MANAGER, role_required
from patients.models import MedicineAnswer, PatientAccess
from patients.services import record_access
from scheduling.charting import rems
from scheduling.models import RemsForm, RemsFormStatus
from scheduling.pages.chart import where_recorded

REMS_ROLES = (CLINICIAN, MANAGER)
SUBMITTED_SHOWN = 50
# Most urgent first: past day 7, days 5-7, not yet due; submitted ones last.
URGENCY_ORDER = {"overdue": 0, "due": 1, "pending": 2, "submitted": 3}
URGENCY_WORDS = {"overdue": "Overdue", "due": "Due", "pending": "Not yet due", "submitted": "Submitted"}


def _forms():
    return RemsForm.objects.select_related(
        "session__patient", "session__location", "session__course__protocol", "session__clinician",
        "session__discharged_by", "session__dose", "submitted_by",
    )


def _today(form: RemsForm):
    location = form.session.location
    return location.local_date(timezone.now()) if location else timezone.localdate()


@require_GET
@role_required(*REMS_ROLES)
def rems_list(request):
    """Every unsubmitted form, overdue and due first, then the latest submitted ones. Two queries."""
    open_forms = list(_forms().exclude(status=RemsFormStatus.SUBMITTED))
    submitted = list(_forms().filter(status=RemsFormStatus.SUBMITTED).order_by("-submitted_at", "-id")
                     [:SUBMITTED_SHOWN])
    rows = [(form, form.urgency(_today(form))) for form in open_forms + submitted]
    # Open forms oldest session first; submitted ones keep their newest-first order (the sort is stable).
    rows.sort(key=lambda row: (URGENCY_ORDER[row[1]],) if row[1] == "submitted"
              else (URGENCY_ORDER[row[1]], row[0].session.local_date, row[0].pk))
    groups = []
    for urgency in URGENCY_ORDER:
        members = [form for form, found in rows if found == urgency]
        groups.append({"urgency": urgency, "words": URGENCY_WORDS[urgency], "forms": members})
    return render(request, "scheduling/clinician/rems_list.html", {"groups": groups})


def _form_context(form: RemsForm, *, error: ClinicError | None = None, typed: str = "") -> dict:
    if form.submitted_content is not None:
        content, missing = form.submitted_content, []
    else:
        content, missing = rems.form_content(form.session)
    answers = dict(MedicineAnswer.choices)
    # Forms submitted before yes / no / not asked hold true or false: true was "yes", false could not tell.
    answers.update({True: "Yes", False: "No (recorded before “not asked” existed)"})
    # One order for every form, draft or submitted: the form's own (``rems.FORM_MEDICINES``).
    medicines = [(label, answers.get(answer, answer)) for label, answer in rems.medicine_answers(content)]
    session_day = date.fromisoformat(content["session_date"])
    return {
        "form": form,
        "session": form.session,
        "content": content,
        "date_of_birth": date.fromisoformat(content["patient"]["date_of_birth"]),
        "session_day": session_day,
        # The lot's expiry, read from the ledger (ISO in the content, as the REMS gets it), in words on the page.
        "lot_expiry": (date.fromisoformat(content["dose"]["lot_expiry"])
                       if (content.get("dose") or {}).get("lot_expiry") else None),
        "late_entries": [{**entry, "at": _moment(entry["at"], session_day),
                          "entered_at": _moment(entry["entered_at"], session_day)}
                         for entry in content.get("late_entries") or []],
        "left_at": (_moment(content["left_before_discharge"]["at"], session_day)
                    if content.get("left_before_discharge") else None),
        # Each missing item links straight to the form that records it (a late entry on the chart, or the patient).
        "missing": [(label, where_recorded(form.session, label)) for label in missing],
        "medicines": medicines,
        "urgency": form.urgency(_today(form)),
        "error": error,
        "field_errors": error.fields if error else {},
        "typed": typed,
    }


def _moment(stored: str, session_day: date) -> str:
    """A time the form holds as ``YYYY-MM-DD HH:MM`` (local), in words: the time alone on the session's day."""
    try:
        moment = datetime.fromisoformat(stored)
    except (TypeError, ValueError):
        return stored  # not one of ours: shown as stored rather than not at all
    if moment.date() == session_day:
        return f"{moment:%H:%M}"
    return f"{moment:%a %b} {moment.day}, {moment.year} {moment:%H:%M}"


@require_GET
@role_required(*REMS_ROLES)
def rems_form(request, form_id: int):
    """The form in its own sections, printable, with what is missing and the "Mark submitted" form."""
    form = get_object_or_404(_forms(), pk=form_id)
    record_access(patient=form.session.patient, user=request.user, channel=PatientAccess.Channel.WEB,
                  path=request.path)
    return render(request, "scheduling/clinician/rems_form.html", _form_context(form))


@require_POST
@role_required(*REMS_ROLES)
def rems_submit(request, form_id: int):
    """Mark the form submitted with the REMS confirmation number; an incomplete form is refused with the reason."""
    form = get_object_or_404(_forms(), pk=form_id)
    typed = request.POST.get("confirmation_number", "")
    try:
        rems.submit_form(by=request.user, form=form, confirmation_number=typed)
    except ClinicError as error:
        fresh = get_object_or_404(_forms(), pk=form_id)
        return render(request, "scheduling/clinician/rems_form.html", _form_context(fresh, error=error, typed=typed),
                      status=error.status)
    messages.success(request, f"Marked submitted with confirmation number {typed.strip()}.")
    return redirect("rems-form", form_id=form.pk)
