"""The renewal summary: what a payer asks for before it approves more sessions of a course.

Diagnosis, protocol, the course's authorisations, the sessions given with their
doses, baseline and latest PHQ-9 and MADRS with response and remission, and the
adverse events charted. Response and remission are the outcomes' own
(``scheduling.charting.outcomes.course_outcomes``, judged by ``patients.measures``),
never re-derived here. The page and the PDF both draw this one summary, so they
cannot say different things. Dates are the patient's home site's: the caller
reads it inside ``timezone.override`` of that zone, as the course page does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from patients import measures
from patients.models import Patient
from protocols.models import Modality, Protocol, TreatmentCourse
from scheduling.booking.authorisations import AuthorisationUse, uses_for_courses
from scheduling.charting.outcomes import course_outcomes
from scheduling.models import Assessment, Session, SessionStatus

# The measures a payer reads, in the order the summary gives them.
PAYER_MEASURES = (measures.PHQ9, measures.MADRS)


@dataclass(frozen=True)
class GivenSession:
    """One session given: its number in the course, day, site and the dose in words."""

    number: int
    day: date
    site: str
    dose: str


@dataclass(frozen=True)
class MeasureOutcome:
    """Baseline and latest totals of one instrument over the course; ``taken`` is 0 when never measured."""

    label: str
    taken: int
    baseline: dict | None  # {"date", "total", "band"}
    latest: dict | None
    change: int | None
    response: bool
    remission: bool
    response_rule: str
    remission_rule: str


@dataclass(frozen=True)
class AdverseEvent:
    day: date
    session_number: int | None
    serious: bool
    description: str


@dataclass(frozen=True)
class RenewalSummary:
    course: TreatmentCourse
    patient: Patient
    protocol: Protocol
    diagnosis: str
    authorisations: list[AuthorisationUse]
    sessions: list[GivenSession]
    outcomes: list[MeasureOutcome]
    adverse_events: list[AdverseEvent]
    prepared_on: date

    @property
    def modality(self) -> str:
        return self.course.get_modality_display()



def _number(value: Decimal | None) -> str:
    """``84`` for 84.0, ``52.5`` for 52.5: a dose as a clinician writes it."""
    return "" if value is None else f"{value.normalize():f}"


def dose_words(session: Session, modality: str) -> str:
    """The dose given at ``session`` in words: ``84 mg (3 devices)``, ``35 mg (0.5 mg/kg at 70 kg)``.

    A session recorded from before the system has only its total (``recorded_dose_mg``),
    said as recorded; a session with no dose charted says so.
    """
    dose = getattr(session, "dose", None)
    if dose is None:
        if session.recorded_dose_mg is not None:
            return f"{_number(session.recorded_dose_mg)} mg (recorded from before the system)"
        return "No dose charted"
    if modality == Modality.ESKETAMINE_NASAL:
        devices = dose.devices
        return f"{_number(dose.dose_mg)} mg" + (f" ({devices} device{'s' if devices != 1 else ''})" if devices else "")
    if dose.mg_per_kg is not None and dose.weight_kg is not None:
        return f"{_number(dose.dose_mg)} mg ({_number(dose.mg_per_kg)} mg/kg at {_number(dose.weight_kg)} kg)"
    return f"{_number(dose.dose_mg)} mg"


def _given_sessions(course: TreatmentCourse) -> tuple[list[GivenSession], dict[int, int]]:
    rows = list(Session.objects.filter(course=course, status=SessionStatus.DISCHARGED)
                .select_related("dose", "location").order_by("start", "id"))
    numbers = {session.pk: index for index, session in enumerate(rows, start=1)}
    given = [GivenSession(number=numbers[session.pk], day=session.local_date,
                          site=session.location.name if session.location else "Elsewhere",
                          dose=dose_words(session, course.modality)) for session in rows]
    return given, numbers


def _outcomes(course: TreatmentCourse) -> list[MeasureOutcome]:
    found = course_outcomes(course)
    outcomes = []
    for instrument in PAYER_MEASURES:
        spec = measures.spec_for(instrument)
        summary = found.get(instrument)
        remission_rule = f"total {spec.remission_max} or below"
        if summary is None:
            outcomes.append(MeasureOutcome(spec.label, 0, None, None, None, False, False, "a drop of 50% or more",
                                           remission_rule))
            continue
        outcomes.append(MeasureOutcome(
            label=spec.label, taken=len(summary["points"]),
            baseline={key: summary["baseline"][key] for key in ("date", "total", "band")},
            latest={key: summary["latest"][key] for key in ("date", "total", "band")},
            change=summary["change"], response=summary["response"], remission=summary["remission"],
            response_rule="a drop of 50% or more", remission_rule=remission_rule,
        ))
    return outcomes


def _adverse_events(course: TreatmentCourse, numbers: dict[int, int]) -> list[AdverseEvent]:
    rows = (Assessment.objects.filter(session__course=course, adverse_event=True)
            .select_related("session").order_by("assessed_at", "id"))
    return [AdverseEvent(day=row.session.local_date, session_number=numbers.get(row.session_id),
                         serious=row.adverse_event_serious, description=row.adverse_event_description)
            for row in rows]


def renewal_summary(course: TreatmentCourse, *, today: date) -> RenewalSummary:
    """The renewal summary of ``course`` as of ``today`` (the home site's date), in a fixed number of queries.

    Sessions given are the discharged ones, numbered in the course from 1; a dose
    charted at each (esketamine mg and devices, IV mg with mg/kg and weight), or
    the total recorded from before the system. Outcomes give PHQ-9 and MADRS
    even when never measured (``taken`` 0), so the payer sees what is missing.
    Adverse events are the assessments that recorded one, serious or not.
    """
    sessions, numbers = _given_sessions(course)
    return RenewalSummary(
        course=course, patient=course.patient, protocol=course.protocol,
        diagnosis=course.patient.get_diagnosis_display(),
        authorisations=uses_for_courses([course.pk]).get(course.pk, []),
        sessions=sessions, outcomes=_outcomes(course), adverse_events=_adverse_events(course, numbers),
        prepared_on=today,
    )
