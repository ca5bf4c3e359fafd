"""Patient pages: search, create, edit, and the record itself.

The full patient page (courses, plan, sessions, texts) is served by the
scheduling app at the same address as ``patients:detail``, because the
patients app may not import scheduling or protocols; ``patient_detail`` here
is the record alone, for a site without scheduling.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
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


@require_GET
@role_required()
def patient_detail(request, patient_id: int):
    patient = get_object_or_404(Patient, pk=patient_id)
    services.record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB,
                           path=request.path)
    return render(request, "patients/detail.html", {"patient": patient, "findings": _findings(patient)})


@require_http_methods(["GET", "POST"])
@role_required()
def patient_create(request):
    """A new patient; the same checks and words as the API, including the possible-duplicate question."""
    form = PatientForm(request.POST or None, initial={"sex": "unknown", "diagnosis": "mdd"})
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
    return render(request, "patients/form.html", {"form": form, "duplicate": duplicate, "patient": None},
                  status=status)


@require_http_methods(["GET", "POST"])
@role_required()
def patient_edit(request, patient_id: int):
    """Change a patient's details through ``update_patient`` (an archived record refuses)."""
    patient = get_object_or_404(Patient, pk=patient_id)
    services.record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB,
                           path=request.path)
    initial = {name: getattr(patient, name) for name in PatientForm().fields}
    form = PatientForm(request.POST or None, initial=initial)
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
    return render(request, "patients/form.html", {"form": form, "patient": patient, "duplicate": None},
                  status=status)
