"""The role matrix's rows for prior authorisations (see tests/clinic/permission_rows/__init__.py)."""

from __future__ import annotations

from datetime import date

from tests.clinic.permission_rows.table import ALL, CLINICIAN_AND_MANAGER, Row
from tests.factories import PatientFactory, PriorAuthorisationFactory, TreatmentCourseFactory

ENTER = "prior authorisations: read, enter, update"
BEYOND = "sessions: book beyond the course's prior authorisation (with a reason)"
A = {"pk": "authorisation"}
PENDING = {"payer": "Aetna", "submitted_on": "2026-02-25"}

ROWS: list[Row] = [
    Row("api/courses/<course_id>/authorisations/", "GET", ALL, ENTER, args={"course_id": "course"}),
    Row("api/courses/<course_id>/authorisations/", "POST", ALL, ENTER, args={"course_id": "course"}, body=PENDING),
    Row("api/authorisations/<pk>/", "GET", ALL, ENTER, args=A),
    Row("api/authorisations/<pk>/", "PATCH", ALL, ENTER, args=A, body={"notes": "Called the payer"}),
    Row("api/authorisations/<pk>/", "PUT", ALL, ENTER, args=A, body={**PENDING, "number": "PA-1"}),
    Row("api/authorisations/<pk>/history/", "GET", ALL, ENTER, args=A),
    Row("api/sessions/", "POST", CLINICIAN_AND_MANAGER, BEYOND,
        body=lambda w, c: {"course": w["denied_course"], "chair": w["chair"], "start": "2026-03-04T10:00",
                           "authorisation_reason": "Appeal sent; the patient cannot wait"}),
]


def world(objects: dict) -> dict:
    """The keys these rows name, made inside the matrix's world (rolled back after the module): a pending
    authorisation of the world's course, and a course whose only authorisation was denied."""
    pending = PriorAuthorisationFactory(course=objects["course"], status="pending", units_approved=None,
                                        first_day=None, last_day=None, decided_on=None)
    denied_course = TreatmentCourseFactory(patient=PatientFactory(), protocol=objects["protocol"],
                                           start_date=date(2026, 3, 2))
    PriorAuthorisationFactory(course=denied_course, status="denied")
    return {"authorisation": pending.pk, "denied_course": denied_course.pk}
