"""Patient pages: search, create, edit, and the record itself.

The full patient page (courses, plan, sessions, texts) is served by the
scheduling app at the same address as ``patients:detail``, because the
patients app may not import scheduling or protocols; ``patient_detail`` here
is the record alone, for a site without scheduling.

Each page is drawn in the patient's home time zone (``services.home_zone``),
so a consent given at 20:00 in New York shows that day, and "today" on a
form is the clinic's today, not UTC's.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clinic.errors import ClinicError
from clinic.roles import role_required
from patients import selectors, services
from patients.forms import PatientForm
from patients.models import Patient, PatientAccess


@require_GET
@role_required()
def patient_list(request):
    """Patients, searchable as you type; htmx swaps in just the results table."""
    query = request.GET.get("q", "")
    page = Paginator(selectors.search_patients(query), 25).get_page(request.GET.get("page"))
    template = "patients/_results.html" if request.htmx else "patients/list.html"
    return render(request, template, {"page": page, "query": query})


def _findings(patient: Patient) -> list[str]:
    return patient.findings_in_words()


def _render_at_home(request, template: str, context: dict, *, patient: Patient | None, status: int = 200):
    """``render`` with dates and "today" in the patient's home zone (the desk's, for a new patient)."""
    zone = services.home_zone(patient_id=patient.pk if patient else None, user=request.user)
    with timezone.override(zone):
        return render(request, template, {**context, "today": timezone.localdate()}, status=status)


def _form(request, patient: Patient | None, initial: dict) -> PatientForm:
    zone = services.home_zone(patient_id=patient.pk if patient else None, user=request.user)
    return PatientForm(request.POST or None, initial=initial, patient=patient, by=request.user,
                       today=timezone.localdate(timezone=zone))


@require_GET
@role_required()
def patient_detail(request, patient_id: int):
    patient = get_object_or_404(Patient, pk=patient_id)
    services.record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB,
                           path=request.path)
    return _render_at_home(request, "patients/detail.html", {"patient": patient, "findings": _findings(patient)},
                           patient=patient)


@require_http_methods(["GET", "POST"])
@role_required()
def patient_create(request):
    """A new patient; the same checks and words as the API, including the possible-duplicate question."""
    form = _form(request, None, {"sex": "unknown", "diagnosis": "mdd"})
    duplicate = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.create_patient(by=request.user, values=form.cleaned_data,
                                              confirm_new=request.POST.get("confirm_new") == "1")
        except ValidationError as error:
            form.add_service_errors(error)
            status = 400
        except ClinicError as error:
            duplicate = error if error.code == "possible_duplicate" else None
            if duplicate is None:
                form.add_error(None, error.detail)
            status = error.status
        else:
            messages.success(request, f"Created {patient.display_name} ({patient.mrn}).")
            return redirect("patients:detail", patient_id=patient.pk)
    elif request.method == "POST":
        status = 400
    return _render_at_home(request, "patients/form.html", {"form": form, "duplicate": duplicate, "patient": None},
                           patient=None, status=status)


@require_http_methods(["GET", "POST"])
@role_required()
def patient_edit(request, patient_id: int):
    """Change a patient's details through ``update_patient`` (an archived record refuses)."""
    patient = get_object_or_404(Patient, pk=patient_id)
    services.record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB,
                           path=request.path)
    initial = {name: getattr(patient, name) for name in PatientForm().fields}
    form = _form(request, patient, initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.update_patient(patient=patient, by=request.user, changes=form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(error)
            status = 400
        except ClinicError as error:
            form.add_error(None, error.detail)
            status = error.status
        else:
            messages.success(request, f"Saved {patient.display_name}'s details.")
            return redirect("patients:detail", patient_id=patient.pk)
    elif request.method == "POST":
        status = 400
    return _render_at_home(request, "patients/form.html", {"form": form, "patient": patient, "duplicate": None},
                           patient=patient, status=status)
