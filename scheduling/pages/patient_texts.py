"""Texting a patient from their page, under every rule a text obeys (``scheduling.messaging.desk_texts``).

The section is an htmx partial the patient page includes: included without
its context it loads itself (``hx-trigger="load"``); without JavaScript its
link opens the same section as a page of its own. A refusal is shown in the
section with the service's words, beside the message when it is about the
words, with the API's status (400, 409).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.errors import ClinicError
from clinic.roles import role_required
from patients.models import Patient, PatientAccess
from patients.services import record_access
from scheduling.messaging import desk_texts
from scheduling.models import ReminderState
from scheduling.models.messaging import DeskText

SECTION = "scheduling/pages/_patient_text.html"
PAGE = "scheduling/pages/patient_text.html"


def _context(request, patient: Patient, *, message: str = "", form_key: str = "", error: ClinicError | None = None,
             written: DeskText | None = None) -> dict:
    now = timezone.now()
    hours = desk_texts.Hours.of(desk_texts.site_for(patient, now, by=request.user))
    goes_at = hours.next_allowed(now)
    return {
        "patient": patient,
        "text_section": True,
        "refusal": desk_texts.refusal(patient),
        "prefix": desk_texts.prefix(),
        "max_segments": desk_texts.MAX_SEGMENTS,
        "message": message,
        "parts": desk_texts.sms_parts(desk_texts.final_text(message)),
        "form_key": form_key or uuid.uuid4(),
        "hours": hours,
        "quiet": goes_at > now,
        "goes_at": goes_at.astimezone(hours.zone).replace(tzinfo=None),
        "recent": [(text, _status_words(text)) for text in desk_texts.recent(patient)],
        "written": written,
        "written_words": _status_words(written) if written else "",
        "error": error,
        "field_errors": error.fields if error else {},
        "zone": hours.zone,
    }


def _render(request, patient: Patient, *, status: int = 200, **kwargs) -> HttpResponse:
    return render(request, SECTION if request.htmx else PAGE, _context(request, patient, **kwargs), status=status)


@require_http_methods(["GET", "POST"])
@role_required()
def patient_text(request, patient_id: int):
    """GET: the section (a page of its own without htmx); POST: send the text, or queue it for the morning."""
    patient = get_object_or_404(Patient, pk=patient_id)
    if request.method == "GET":
        if not request.htmx:  # the patient page logged its own opening; a page of its own is another
            record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB, path=request.path)
        return _render(request, patient)
    message, form_key = request.POST.get("message", ""), request.POST.get("form_key", "")
    try:
        written = desk_texts.text_patient(by=request.user, patient=patient, message=message, form_key=form_key)
    except ClinicError as error:
        return _render(request, patient, status=error.status, message=message, form_key=form_key, error=error)
    if not request.htmx:
        messages.success(request, _status_words(written))
        return redirect("patient-page", patient_id=patient.pk)
    return _render(request, patient, written=written)


@require_POST
@role_required()
def patient_text_withdraw(request, patient_id: int, text_id: int):
    """Take back a text still held for quiet hours."""
    text = get_object_or_404(DeskText, pk=text_id, patient_id=patient_id)
    try:
        desk_texts.withdraw(by=request.user, text=text)
    except ClinicError as error:
        return _render(request, text.patient, status=error.status, error=error)
    if not request.htmx:
        messages.success(request, "The text will not be sent.")
        return redirect("patient-page", patient_id=patient_id)
    return _render(request, text.patient)


def _status_words(text: DeskText) -> str:
    """Where a text stands, in the desk's words, with times on the site's clock."""
    zone = desk_texts.Hours.of(text.location).zone

    def when(instant) -> str:
        local = instant.astimezone(zone)
        return f"{local:%a %b} {local.day} at {local:%-I:%M %p}"

    if text.state == ReminderState.SENT:
        return f"Sent {when(text.sent_at)}."
    if text.state == ReminderState.PENDING:
        return f"Waiting for quiet hours to end: goes {when(text.send_at)}."
    if text.state == ReminderState.QUEUED:
        return "On its way."
    if text.state in (ReminderState.SENDING, ReminderState.UNKNOWN):
        return "Handed to the provider; whether it went is not known yet."
    return f"Not sent: {text.reason or text.get_state_display().lower()}."


urlpatterns = [
    path("patients/<int:patient_id>/text/", patient_text, name="patient-text"),
    path("patients/<int:patient_id>/text/<int:text_id>/withdraw/", patient_text_withdraw,
         name="patient-text-withdraw"),
]
