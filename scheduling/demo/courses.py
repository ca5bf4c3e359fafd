"""Demo treatment courses on all four standard protocols; deterministic and safe to run twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from django.utils import timezone

from clinic.errors import ClinicError
from clinic.roles import CLINICIAN, FRONT_DESK
from patients.models import Diagnosis, Patient
from protocols import eligibility, services
from protocols.models import CourseStatus, Modality, Protocol, TreatmentCourse

# Rotated across patients with an MDD diagnosis and no special need.
ROTATION = ("esketamine-trd", "ketamine-iv-series", "esketamine-trd", "ketamine-iv-weekly")
# A clinician's reason per diagnosis (off-label esketamine), else per finding.
DIAGNOSIS_REASONS = {
    Diagnosis.BIPOLAR: "Bipolar depression, stable on a mood stabiliser; off-label use discussed and consented.",
    Diagnosis.PTSD: "Treatment-resistant depressive symptoms with PTSD; off-label use discussed and consented.",
    Diagnosis.OTHER: "Depressive episode outside the label; reviewed by the prescriber and consented.",
}
FINDING_REASONS = {"pregnant": "Reviewed with obstetrics; benefit judged to outweigh the risk."}
DEFAULT_OVERRIDE_REASON = "Reviewed at intake; risk discussed with the patient and judged acceptable."


def _override_reason(patient: Patient, findings) -> str:
    if not findings:
        return ""
    if findings[0].code == "diagnosis_not_mdd":
        return DIAGNOSIS_REASONS.get(patient.diagnosis, DEFAULT_OVERRIDE_REASON)
    return FINDING_REASONS.get(findings[0].code, DEFAULT_OVERRIDE_REASON)


def _protocol_for(patient: Patient, index: int) -> str:
    if patient.diagnosis == Diagnosis.MDD_SI:
        return "esketamine-mdsi"
    if patient.diagnosis == Diagnosis.BIPOLAR:
        # The off-label case the demo shows: a clinician's override on file.
        return "esketamine-trd"
    return ROTATION[index % len(ROTATION)]


def _eligible_protocol(patient: Patient, slug: str) -> str | None:
    # A hard stop for esketamine moves the patient to IV ketamine; one for both skips them.
    for candidate in (slug, "ketamine-iv-series"):
        modality = Modality.ESKETAMINE_NASAL if candidate.startswith("esketamine") else Modality.KETAMINE_IV
        findings = eligibility.check(modality, patient.diagnosis, patient.screening())
        if not eligibility.hard_stops(findings):
            return candidate
    return None


def create_demo_courses(patients: Sequence[Patient], users: Mapping[str, object], *, count: int = 25):
    """Start courses for the first ``count`` patients, found by (patient, protocol) on a second run.

    ``users`` maps role to user, as ``scheduling.demo.users.create_demo_users``
    returns. Courses go through ``start_course`` so eligibility holds: overrides
    (e.g. bipolar depression on esketamine) carry a clinician's reason. Start
    dates spread over the last 10 weeks; one course is paused and one
    discontinued. Returns the courses.
    """
    protocols = {protocol.slug: protocol for protocol in Protocol.objects.filter(version=1)}
    today = timezone.localdate()
    courses = []
    for index, patient in enumerate(patients[:count]):
        slug = _eligible_protocol(patient, _protocol_for(patient, index))
        if slug is None:
            continue
        protocol = protocols[slug]
        course = TreatmentCourse.objects.filter(patient=patient, protocol=protocol).first()
        if course is None:
            findings = eligibility.needs_override(
                eligibility.check(protocol.modality, patient.diagnosis, patient.screening())
            )
            reason = _override_reason(patient, findings)
            try:
                course = services.start_course(
                    by=users[CLINICIAN] if reason else users[FRONT_DESK],
                    patient=patient,
                    protocol=protocol,
                    start_date=today - timedelta(days=(index * 17) % 70),
                    override_reason=reason,
                )
            except ClinicError:
                # e.g. another open course of the modality from an earlier demo set.
                continue
        courses.append(course)

    if len(courses) > 3:
        paused, discontinued = courses[1], courses[2]
        if paused.status == CourseStatus.ACTIVE:
            services.pause_course(by=users[CLINICIAN], course=paused)
        if discontinued.status in (CourseStatus.ACTIVE, CourseStatus.PAUSED):
            services.discontinue_course(by=users[CLINICIAN], course=discontinued,
                                        reason="Moved out of the area; care transferred.")
    return [TreatmentCourse.objects.get(pk=course.pk) for course in courses]
