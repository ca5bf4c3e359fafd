"""FHIR CarePlan: a patient's course of treatment, read and searched by ``patient`` and ``status``.

Mapping (docs/FHIR.md): ``status`` from the course's (active -> active,
paused -> on-hold, completed -> completed, discontinued -> revoked);
``intent`` plan; ``subject`` the Patient; the protocol as ``title`` and
``instantiatesUri`` (``urn:clinic:protocol:{slug}``), the treatment as
``category``; ``period`` from the start date to the day it ended; the
current phase (the phase of the next session, as the API's ``phase``) in
the ``treatment-phase`` extension and in the one ``activity``'s
description, with the sessions completed so far.
"""

from __future__ import annotations

from django.db.models import Q
from fhir.resources.R4B.careplan import CarePlan

from protocols import selectors
from protocols.models import CourseStatus, TreatmentCourse
from scheduling.fhir import ids
from scheduling.fhir import search_params as params
from scheduling.fhir.access import log_patient_reads
from scheduling.fhir.bundles import searchset
from scheduling.fhir.codes import (
    PHASE_EXTENSION,
    PROTOCOL_SYSTEM,
    SESSIONS_COMPLETED_EXTENSION,
    modalities_asked,
    treatment_concept,
)
from scheduling.fhir.errors import FhirError
from scheduling.fhir.responses import fhir_response
from scheduling.fhir.searching import numeric_ids
from scheduling.fhir.views import FhirView, paging

STATUS = {CourseStatus.ACTIVE: "active", CourseStatus.PAUSED: "on-hold", CourseStatus.COMPLETED: "completed",
          CourseStatus.DISCONTINUED: "revoked"}
COURSE_STATUSES = {fhir: course for course, fhir in STATUS.items()}
# FHIR's RequestStatus codes no course is ever in: asking for them finds nothing.
NEVER = {"draft", "entered-in-error", "unknown"}
ACTIVITY_STATUS = {CourseStatus.ACTIVE: "in-progress", CourseStatus.PAUSED: "on-hold",
                   CourseStatus.COMPLETED: "completed", CourseStatus.DISCONTINUED: "stopped"}
SEARCH_PARAMS = ("_id", "patient", "subject", "status", "category")


def care_plan_resource(course: TreatmentCourse, outlook) -> CarePlan:
    """``course`` (patient and protocol loaded) as a CarePlan, with its ``due.CourseOutlook``."""
    protocol, patient = course.protocol, course.patient
    phase = outlook.phase if course.is_open else None
    ended = course.completed_at or course.discontinued_at
    where = f"phase {phase}" if phase else course.get_status_display().lower()
    summary = f"{protocol.name}: {where}, {outlook.sessions_completed} session(s) completed"
    extension = [{"url": SESSIONS_COMPLETED_EXTENSION, "valueUnsignedInt": outlook.sessions_completed}]
    if phase:
        extension.insert(0, {"url": PHASE_EXTENSION, "valueString": phase})
    return CarePlan(
        id=str(course.pk),
        meta={"lastUpdated": course.updated_at} if course.updated_at else None,
        extension=extension,
        instantiatesUri=[f"urn:clinic:protocol:{protocol.slug}"],
        status=STATUS[course.status], intent="plan",
        category=[treatment_concept(course.modality)],
        title=protocol.name,
        description=summary,
        subject={"reference": f"Patient/{patient.pk}", "display": patient.display_name},
        period={"start": course.start_date.isoformat(), "end": ended.date().isoformat() if ended else None},
        created=course.created_at,
        activity=[{"detail": {
            "kind": "Appointment",
            "code": {"coding": [{"system": PROTOCOL_SYSTEM, "code": protocol.slug, "display": protocol.name}],
                     "text": phase or protocol.name},
            "status": ACTIVITY_STATUS[course.status],
            "description": summary,
        }}],
    )


def care_plans(courses: list[TreatmentCourse]) -> list[CarePlan]:
    """CarePlans of ``courses`` with their outlooks computed together (two queries, however many)."""
    outlooks = selectors.course_outlooks(courses)
    return [care_plan_resource(course, outlooks[course.pk]) for course in courses]


def _courses():
    return TreatmentCourse.objects.for_lists()


class CarePlanReadView(FhirView):
    def get(self, request, resource_id: str):
        course = _courses().filter(pk=ids.read_id(resource_id, "CarePlan")).first()
        if course is None:
            raise FhirError.not_found(f"CarePlan/{resource_id} is not known here.")
        log_patient_reads(request, [course.patient_id])
        return fhir_response(care_plans([course])[0])


class CarePlanSearchView(FhirView):
    def get(self, request):
        params.check_params(request, SEARCH_PARAMS)
        wanted = Q()
        pks = numeric_ids(request)
        if pks is not None:
            wanted &= Q(pk__in=pks)
        for name in ("patient", "subject"):
            for value in params.values(request, name):
                found = {ids.number_id(ids.parse_reference(text.strip(), "Patient", bare=True))
                         for text in value.split(",")}
                wanted &= Q(patient_id__in=found - {None})
        for value in params.values(request, "status"):
            asked = {text.strip() for text in value.split(",")}
            unknown = asked - set(COURSE_STATUSES) - NEVER
            if unknown:
                raise FhirError.invalid(f"status: {', '.join(sorted(unknown))} is not a CarePlan status "
                                        "(active, on-hold, completed, revoked).", expression=["status"])
            wanted &= Q(status__in=[COURSE_STATUSES[code] for code in asked if code in COURSE_STATUSES])
        for value in params.values(request, "category"):
            wanted &= Q(modality__in=modalities_asked(value, "category"))
        courses = _courses().filter(wanted).order_by("-start_date", "-id")
        offset, count = paging(request)
        total = courses.count()
        page = list(courses[offset:offset + count]) if count and offset < total else []
        log_patient_reads(request, [course.patient_id for course in page])
        return fhir_response(searchset(request, resources=care_plans(page), total=total, offset=offset, count=count))
