"""The renewal summary of a course: a printable page and its PDF, for the payer's next authorisation.

Both read one ``renewal_summary`` at the patient's home site (its dates, its
"today"), and both are an opening of the patient's record: the page is logged
as a web view, the PDF as an export (it leaves the system). Open to every role,
as the course page is: the desk sends it, clinicians and managers read it.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic.roles import role_required
from patients.models import PatientAccess
from patients.services import record_access
from protocols.models import TreatmentCourse
from scheduling.charting.renewal import renewal_summary
from scheduling.pages import course_or_404, local_today
from scheduling.pages.patient_page import home_location
from scheduling.pages.renewal_pdf import renewal_pdf


def _summary(request, course: TreatmentCourse):
    home = home_location(course.patient_id, request.user)
    zone = home.zone if home else timezone.get_default_timezone()
    # The outcomes read measure dates in the current zone: the home site's, as on the course page.
    with timezone.override(zone):
        return renewal_summary(course, today=local_today(home)), zone


def prepared_by(user) -> str:
    return user.get_full_name() or user.username


@require_GET
@role_required()
@never_cache
def renewal_summary_page(request, course_id: int):
    """The summary as a page that prints on its own (no navigation on paper)."""
    course = course_or_404(course_id)
    record_access(patient=course.patient, user=request.user, channel=PatientAccess.Channel.WEB, path=request.path)
    summary, zone = _summary(request, course)
    with timezone.override(zone):
        return render(request, "scheduling/pages/renewal_summary.html",
                      {"summary": summary, "course": course, "patient": course.patient,
                       "prepared_by": prepared_by(request.user)})


@require_GET
@role_required()
@never_cache
def renewal_summary_pdf(request, course_id: int):
    """The summary as a PDF, opened in the browser (``inline``) to print or save."""
    course = course_or_404(course_id)
    record_access(patient=course.patient, user=request.user, channel=PatientAccess.Channel.EXPORT, path=request.path)
    summary, _ = _summary(request, course)
    response = HttpResponse(renewal_pdf(summary, prepared_by=prepared_by(request.user)),
                            content_type="application/pdf")
    # The course, not the patient's name or MRN, names the file: a downloads folder is not a record.
    response["Content-Disposition"] = f'inline; filename="renewal-summary-course-{course.pk}.pdf"'
    return response


urlpatterns = [
    path("courses/<int:course_id>/renewal-summary/", renewal_summary_page, name="renewal-summary"),
    path("courses/<int:course_id>/renewal-summary.pdf", renewal_summary_pdf, name="renewal-summary-pdf"),
]
