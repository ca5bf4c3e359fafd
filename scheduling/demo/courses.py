"""Demo treatment courses: one per patient, each with a story the worklist and the board can tell.

Each course follows one of the standard protocols from a start date some weeks ago and
has a *story* (``Story``): most are simply on track with their next visit booked; the
others are there so that every kind of worklist item is present whatever the day:
a visit due and not booked, one overdue, a lapsed course, a no-show to rebook, a patient
who asked for a new time, an esketamine booking without REMS enrolment, a course paused,
one discontinued and one completed. A patient's site follows their MRN (odd: Midtown,
even: Westside), as their phone's area code does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from clinic.roles import CLINICIAN, FRONT_DESK
from patients.models import Diagnosis, Patient
from protocols import eligibility, services
from protocols.models import CourseStatus, Modality, Protocol, TreatmentCourse
from scheduling.models import SessionStatus


class Story:
    BOOKED = "booked"  # on track: the next visit is booked in its window
    DUE = "due"  # the next visit's window is open (or opens within 3 days) and nothing is booked
    OVERDUE = "overdue"  # past the window's latest day, nothing booked
    LAPSED = "lapsed"  # more than 14 days past the latest day: a clinician must review
    NO_SHOW = "no_show"  # did not come to the last visit, nothing booked since
    RESCHEDULE = "reschedule"  # booked, and the patient replied R to ask for a new time
    NOT_ENROLLED = "not_enrolled"  # esketamine booked to start soon, REMS enrolment not yet recorded
    NEW = "new"  # starts today: the first visit is the next one
    PAUSED = "paused"
    DISCONTINUED = "discontinued"
    COMPLETED = "completed"  # a finite protocol (esketamine-mdsi) with every session given

    # Stories whose next visit the desk has booked.
    WITH_BOOKING = (BOOKED, RESCHEDULE, NOT_ENROLLED, NEW)


# (story, protocol, days since the start). Enough history for each story to happen by today.
PLAN = (
    (Story.BOOKED, "esketamine-trd", 10),
    (Story.PAUSED, "esketamine-trd", 40),
    (Story.DISCONTINUED, "ketamine-iv-series", 45),
    (Story.BOOKED, "ketamine-iv-weekly", 30),
    (Story.DUE, "esketamine-trd", 12),
    (Story.OVERDUE, "esketamine-trd", 30),
    (Story.LAPSED, "ketamine-iv-weekly", 60),
    (Story.NO_SHOW, "esketamine-trd", 20),
    (Story.COMPLETED, "esketamine-mdsi", 45),
    (Story.RESCHEDULE, "esketamine-trd", 60),
    (Story.BOOKED, "ketamine-iv-series", 8),
    (Story.BOOKED, "esketamine-trd", 70),
    (Story.BOOKED, "esketamine-mdsi", 14),
    (Story.NOT_ENROLLED, "esketamine-trd", -1),
    (Story.NEW, "ketamine-iv-series", 0),
    (Story.BOOKED, "esketamine-trd", 3),
    (Story.BOOKED, "ketamine-iv-weekly", 50),
    (Story.DUE, "ketamine-iv-series", 5),
    (Story.BOOKED, "esketamine-trd", 24),
    (Story.BOOKED, "esketamine-trd", 45),
    (Story.OVERDUE, "ketamine-iv-series", 18),
    (Story.BOOKED, "ketamine-iv-series", 35),
    (Story.NO_SHOW, "ketamine-iv-weekly", 28),
    (Story.BOOKED, "esketamine-trd", 17),
    (Story.BOOKED, "esketamine-trd", 31),
    (Story.BOOKED, "esketamine-trd", 6),
    (Story.BOOKED, "ketamine-iv-series", 4),
    (Story.BOOKED, "esketamine-trd", 13),
    (Story.BOOKED, "ketamine-iv-series", 10),
    (Story.BOOKED, "esketamine-trd", 20),
    (Story.BOOKED, "ketamine-iv-weekly", 15),
)
# A clinician's reason per diagnosis (off-label esketamine), else per finding.
DIAGNOSIS_REASONS = {
    Diagnosis.BIPOLAR: "Bipolar depression, stable on a mood stabiliser; off-label use discussed and consented.",
    Diagnosis.PTSD: "Treatment-resistant depressive symptoms with PTSD; off-label use discussed and consented.",
    Diagnosis.OTHER: "Depressive episode outside the label; reviewed by the prescriber and consented.",
}
FINDING_REASONS = {"pregnant": "Reviewed with obstetrics; benefit judged to outweigh the risk."}
DEFAULT_OVERRIDE_REASON = "Reviewed at intake; risk discussed with the patient and judged acceptable."


@dataclass(frozen=True)
class DemoCourse:
    course: TreatmentCourse
    story: str
    site_index: int  # 0 Midtown, 1 Westside


def eligibility_override_reason(patient: Patient, findings) -> str:
    if not findings:
        return ""
    if findings[0].code == "diagnosis_not_mdd":
        return DIAGNOSIS_REASONS.get(patient.diagnosis, DEFAULT_OVERRIDE_REASON)
    return FINDING_REASONS.get(findings[0].code, DEFAULT_OVERRIDE_REASON)


def fits_protocol(patient: Patient, protocol: Protocol) -> bool:
    """No hard stop; esketamine-mdsi is for MDD with suicidal ideation only, and only it is."""
    if (protocol.slug == "esketamine-mdsi") != (patient.diagnosis == Diagnosis.MDD_SI) \
            and protocol.modality == Modality.ESKETAMINE_NASAL:
        return False
    findings = eligibility.check(protocol.modality, patient.diagnosis, patient.screening())
    return not eligibility.hard_stops(findings)


def create_demo_courses(patients: Sequence[Patient], users: Mapping[str, object], *,
                        today: Mapping[int, date]) -> list[DemoCourse]:
    """Start one course per line of ``PLAN``, each for the first patient it fits (in MRN order).

    ``today`` maps a site index to the local date there. Courses go through
    ``start_course`` so eligibility holds: overrides (e.g. bipolar depression on
    esketamine) carry a clinician's reason. Esketamine patients are REMS-enrolled
    a week before their course starts, except the ``NOT_ENROLLED`` story's.
    """
    protocols = {protocol.slug: protocol for protocol in Protocol.objects.filter(version=1)}
    free = list(patients)
    made = []
    for story, slug, days_ago in PLAN:
        protocol = protocols[slug]
        patient = next((p for p in free if fits_protocol(p, protocol)), None)
        if patient is None:
            continue
        free.remove(patient)
        site_index = patients.index(patient) % 2
        start = today[site_index] - timedelta(days=days_ago)
        if protocol.modality == Modality.ESKETAMINE_NASAL:
            enrolled = story != Story.NOT_ENROLLED
            patient.rems_enrolled_on = start - timedelta(days=7) if enrolled else None
            patient.rems_patient_id = f"REMS-{700000 + patient.pk}" if enrolled else ""
            patient.save(update_fields=["rems_enrolled_on", "rems_patient_id", "updated_at"])
        findings = eligibility.needs_override(eligibility.check(protocol.modality, patient.diagnosis,
                                                                patient.screening()))
        reason = eligibility_override_reason(patient, findings)
        course = services.start_course(by=users[CLINICIAN] if reason else users[FRONT_DESK], patient=patient,
                                       protocol=protocol, start_date=start, override_reason=reason)
        # Entered at intake, a few days before the first visit.
        course.created_at = datetime.combine(min(start, today[site_index]) - timedelta(days=3), time(16),
                                             tzinfo=course.created_at.tzinfo)
        TreatmentCourse.objects.filter(pk=course.pk).update(created_at=course.created_at)
        made.append(DemoCourse(course=course, story=story, site_index=site_index))
    return made


def end_stories(demos: Sequence[DemoCourse], users: Mapping[str, object], *, now: datetime) -> None:
    """Pause, discontinue or complete the courses whose story says so, dated after their last visit.

    Through the course services (their checks), then dated where the story puts
    it: the day after the last visit. A course the charting completed (its last
    session discharged) is dated at that discharge.
    """
    for demo in demos:
        course = demo.course
        if demo.story == Story.PAUSED:
            course = services.pause_course(by=users[CLINICIAN], course=course)
        elif demo.story == Story.DISCONTINUED:
            course = services.discontinue_course(by=users[CLINICIAN], course=course,
                                                 reason="Moved out of the area; care transferred.")
        else:  # a finite protocol whose last session was given completes, whatever the story
            services.complete_course_if_finished(course=course)
        course.refresh_from_db()
        last = course.sessions.filter(status=SessionStatus.DISCHARGED).order_by("-start").first()
        if last is None:
            continue
        after_last = min(now, last.location.at(last.local_date + timedelta(days=1), time(10)))
        if course.status == CourseStatus.PAUSED:
            TreatmentCourse.objects.filter(pk=course.pk).update(paused_at=after_last)
        elif course.status == CourseStatus.DISCONTINUED:
            TreatmentCourse.objects.filter(pk=course.pk).update(discontinued_at=after_last)
        elif course.status == CourseStatus.COMPLETED:
            TreatmentCourse.objects.filter(pk=course.pk).update(completed_at=last.discharged_at or last.end)
