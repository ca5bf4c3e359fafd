"""States of the clinic the clinician's browser tests build through the services: new patients' courses,
a check-in with its pre-dose vital signs, four weeks of outcome measures."""

from __future__ import annotations

from datetime import time, timedelta

from patients import measures
from patients.models import MEDICINE_FIELDS
from protocols.models import TreatmentCourse
from scheduling.charting import outcomes
from scheduling.charting import services as charting
from scheduling.models import Session, VitalsKind
from tests.browser.clinician.chart_steps import NORMAL, at
from tests.factories import PatientFactory, TreatmentCourseFactory, standard_protocol

# Weekly PHQ-9s falling from 19 to 4 (days ago: answers), GAD-7s 12 then 9, MADRS 30 then 14.
PHQ9S = {22: [3, 3, 3, 2, 2, 2, 2, 2, 0], 15: [2, 2, 2, 1, 1, 1, 1, 1, 0], 8: [1, 1, 1, 1, 1, 1, 1, 1, 0],
         1: [1, 1, 1, 1, 0, 0, 0, 0, 0]}
GAD7S = {22: [2, 2, 2, 2, 2, 1, 1], 8: [2, 2, 1, 1, 1, 1, 1]}
MADRSES = {22: [3] * 10, 8: [2, 2, 2, 2, 2, 1, 1, 1, 1, 0]}


def new_course(first_name: str, start, by, **patient) -> TreatmentCourse:
    """An esketamine-trd course for a new patient whose sex and medicines are on file (her REMS form can be whole)."""
    patient = PatientFactory(first_name=first_name, last_name="Okafor", sex="female",
                             **{name: "no" for name in MEDICINE_FIELDS}, **patient)
    return TreatmentCourseFactory(patient=patient, protocol=standard_protocol("esketamine-trd"), start_date=start,
                                  created_by=by)


def check_in_with_vitals(session: Session, clinician) -> None:
    charting.check_in(by=clinician, session=session, fasted_food_2h=True, fasted_drink_30m=True,
                      nasal_medicines_ok=True, ride_home_arranged=True, now=at(session, 2))
    charting.record_vitals(by=clinician, session=session, kind=VitalsKind.PRE_DOSE, now=at(session, 5), **NORMAL)


def measure_course(course: TreatmentCourse, by, site, today) -> None:
    for instrument, answers in ((measures.PHQ9, PHQ9S), (measures.GAD7, GAD7S), (measures.MADRS, MADRSES)):
        for days_ago, items in answers.items():
            outcomes.record_measure(by=by, patient=course.patient, instrument=instrument, items=items,
                                    taken_at=site.at(today - timedelta(days=days_ago), time(12)))
