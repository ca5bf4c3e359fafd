from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from clinic.roles import role_required
from patients import selectors, services
from patients.models import MEDICINE_FIELDS, SCREENING_FIELDS, Patient, PatientAccess


@role_required()
def patient_list(request):
    """Patients, searchable as you type; htmx swaps in just the results table."""
    query = request.GET.get("q", "")
    page = Paginator(selectors.search_patients(query), 25).get_page(request.GET.get("page"))
    template = "patients/_results.html" if request.htmx else "patients/list.html"
    return render(request, template, {"page": page, "query": query})


@role_required()
def patient_detail(request, patient_id: int):
    patient = get_object_or_404(Patient, pk=patient_id)
    services.record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB,
                           path=request.path)
    findings = [Patient._meta.get_field(name).verbose_name.capitalize()
                for name in SCREENING_FIELDS + MEDICINE_FIELDS if getattr(patient, name)]
    return render(request, "patients/detail.html", {"patient": patient, "findings": findings})
