"""The renewal summary: the printable page and its PDF say what a payer asks for, and opening either is logged.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``jan_course`` is an
esketamine-trd course that started Monday 5 January at Midtown; it has two sessions given
(56 mg, then 84 mg with nausea), one booked ahead, a PHQ-9 from 20 to 4 and a MADRS from
30 to 14, and an Aetna approval.
"""

from __future__ import annotations

import base64
import re
import zlib
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from patients import measures
from patients.models import PatientAccess
from scheduling.charting.renewal import dose_words
from scheduling.models import Assessment, Dose, Session, SessionStatus
from tests.factories import OutcomeMeasureFactory, PriorAuthorisationFactory, SessionRowFactory
from tests.scheduling.conftest import JAN_5, local

pytestmark = pytest.mark.django_db

PHQ9_20 = [3, 3, 3, 3, 2, 2, 2, 2, 0]
PHQ9_4 = [1, 1, 1, 1, 0, 0, 0, 0, 0]
MADRS_30 = [3] * 10
MADRS_14 = [2, 2, 2, 2, 2, 1, 1, 1, 1, 0]


def _given(course, chair, day: date, mg: int, devices: int, by) -> Session:
    session = SessionRowFactory(course=course, chair=chair, start=local(chair.location, day, 9),
                                status=SessionStatus.DISCHARGED)
    Dose.objects.create(session=session, dose_mg=Decimal(mg), devices=devices, started_at=session.start,
                        recorded_by=by)
    return session


@pytest.fixture
def summarised(jan_course, chair, staff_clinician):
    """``jan_course`` with what a renewal summary gathers."""
    patient = jan_course.patient
    patient.first_name, patient.last_name, patient.mrn = "Dana", "Whitfield", "M0042"
    patient.save()
    _given(jan_course, chair, date(2026, 1, 6), 56, 2, staff_clinician)
    second = _given(jan_course, chair, date(2026, 1, 9), 84, 3, staff_clinician)
    SessionRowFactory(course=jan_course, chair=chair, start=local(chair.location, date(2026, 3, 4), 9))
    Assessment.objects.create(session=second, assessed_at=second.start, sedation="mild", dissociation="moderate",
                              respiratory="normal", adverse_event=True, adverse_event_description="Nausea, resolved",
                              recorded_by=staff_clinician)
    zone = chair.location.zone
    for instrument, items, day in ((measures.PHQ9, PHQ9_20, JAN_5), (measures.PHQ9, PHQ9_4, date(2026, 2, 23)),
                                   (measures.MADRS, MADRS_30, JAN_5), (measures.MADRS, MADRS_14, date(2026, 2, 23))):
        OutcomeMeasureFactory(patient=patient, instrument=instrument, items=items,
                              taken_at=datetime.combine(day, time(8), tzinfo=zone))
    PriorAuthorisationFactory(course=jan_course, payer="Aetna", number="PA-1", units_approved=8, first_day=JAN_5,
                              last_day=date(2026, 3, 31))
    return jan_course


def pdf_text(content: bytes) -> str:
    """The words a ReportLab PDF draws: each page stream decoded (ASCII85, then Flate) and its strings read.

    ReportLab writes every line of text as a ``(...) Tj`` string in its standard fonts, so reading those
    strings back gives the text; no PDF library is needed for the project's own output.
    """
    words = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", content, re.S):
        try:
            data = zlib.decompress(base64.a85decode(stream.strip().removesuffix(b"~>"), adobe=False))
        except (ValueError, zlib.error):
            continue
        for text in re.findall(rb"\((.*?)(?<!\\)\) Tj", data, re.S):
            text = re.sub(rb"\\([()\\])", rb"\1", text)
            text = re.sub(rb"\\(\d{3})", lambda octal: bytes([int(octal.group(1), 8)]), text)
            words.append(text.decode("cp1252"))
    return "\n".join(words)


def test_the_page_gives_the_patient_diagnosis_protocol_sessions_outcomes_and_adverse_events(
        desk, now, summarised, front_desk):
    # when
    response = desk.get(f"/courses/{summarised.pk}/renewal-summary/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dana Whitfield" in html and "M0042" in html and "May 17, 1980" in html
    assert 'data-testid="renewal-diagnosis">Major depressive disorder<' in html
    assert "Esketamine" in html and 'data-testid="renewal-given-count">2<' in html
    assert "56 mg (2 devices)" in html and "84 mg (3 devices)" in html
    assert "20 <span" in html and "Jan 5, 2026" in html and "Feb 23, 2026" in html
    phq9, madrs = re.findall(r'data-measure="(?:PHQ-9|MADRS)">(.*?)</tr>', html, re.S)
    assert re.findall(r'data-testid="renewal-(?:response|remission)">(\w+)', phq9) == ["Yes", "Yes"]
    assert re.findall(r'data-testid="renewal-(?:response|remission)">(\w+)', madrs) == ["Yes", "No"]
    assert "Nausea, resolved" in html and "3 of 8 used, ends 31 Mar" in html
    assert PatientAccess.objects.filter(patient=summarised.patient, user=front_desk, channel="web",
                                        path=f"/courses/{summarised.pk}/renewal-summary/").exists()


def test_the_pdf_says_the_same_and_its_opening_is_logged_as_an_export(desk, now, summarised, front_desk):
    # when
    response = desk.get(f"/courses/{summarised.pk}/renewal-summary.pdf")
    # then
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "no-store" in response["Cache-Control"]
    assert f'filename="renewal-summary-course-{summarised.pk}.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    for words in ("Renewal summary: Esketamine", "Dana Whitfield", "M0042", "May 17, 1980", "Sessions given",
                  "56 mg (2 devices)", "84 mg (3 devices)", "20 on Jan 5, 2026", "4 on Feb 23, 2026",
                  "30 on Jan 5, 2026", "14 on Feb 23, 2026", "-16", "Nausea, resolved", "PA-1",
                  "3 of 8 used, ends 31 Mar"):
        assert words in text, words
    assert PatientAccess.objects.filter(patient=summarised.patient, user=front_desk, channel="export").exists()


def test_an_empty_course_says_what_is_missing(desk, now, jan_course):
    html = desk.get(f"/courses/{jan_course.pk}/renewal-summary/").content.decode()
    assert html.count("Not measured") == 2
    assert "No session given yet." in html
    assert 'data-testid="renewal-no-authorisations"' in html and 'data-testid="renewal-no-adverse-events"' in html
    text = pdf_text(desk.get(f"/courses/{jan_course.pk}/renewal-summary.pdf").content)
    assert "Not measured" in text and "No session given yet." in text


def test_one_measure_is_a_baseline_not_yet_judged(desk, now, jan_course, chair):
    OutcomeMeasureFactory(patient=jan_course.patient, items=PHQ9_4,
                          taken_at=datetime.combine(JAN_5, time(8), tzinfo=chair.location.zone))
    html = desk.get(f"/courses/{jan_course.pk}/renewal-summary/").content.decode()
    assert 'data-testid="renewal-response">Not yet judged' in html


def test_a_payers_name_with_markup_prints_as_typed(desk, now, jan_course):
    PriorAuthorisationFactory(course=jan_course, payer="Blue <Cross> & Shield", first_day=JAN_5,
                              last_day=date(2026, 3, 31))
    text = pdf_text(desk.get(f"/courses/{jan_course.pk}/renewal-summary.pdf").content)
    # (ReportLab draws the escaped characters as fragments of their own, on the same line)
    assert "Blue <Cross> & Shield" in text.replace("\n", "")


def test_doses_read_as_a_clinician_writes_them():
    # given an IV dose, an esketamine dose and a session recorded from before the system
    iv = Session()
    iv.dose = Dose(dose_mg=Decimal("35.0"), mg_per_kg=Decimal("0.50"), weight_kg=Decimal("70.0"))
    esketamine = Session()
    esketamine.dose = Dose(dose_mg=Decimal("28.0"), devices=1)
    recorded = Session(recorded_dose_mg=Decimal("84.0"))
    # then
    assert dose_words(iv, "iv_ketamine") == "35 mg (0.5 mg/kg at 70 kg)"
    assert dose_words(esketamine, "esketamine_nasal") == "28 mg (1 device)"
    assert dose_words(recorded, "esketamine_nasal") == "84 mg (recorded from before the system)"
    assert dose_words(Session(), "esketamine_nasal") == "No dose charted"


def test_the_summary_reads_a_fixed_number_of_queries_however_many_sessions(
        desk, now, summarised, chair, staff_clinician, django_assert_max_num_queries, django_assert_num_queries):
    # given the summary of two sessions given
    url = f"/courses/{summarised.pk}/renewal-summary/"
    with django_assert_max_num_queries(40) as with_two:
        desk.get(url)
    # when six more are given, each with an adverse event
    for day in range(12, 18):
        session = _given(summarised, chair, date(2026, 1, day), 84, 3, staff_clinician)
        Assessment.objects.create(session=session, assessed_at=session.start, sedation="mild", dissociation="mild",
                                  respiratory="normal", adverse_event=True, adverse_event_description="Dizziness",
                                  recorded_by=staff_clinician)
    # then the page asks the same number of queries
    with django_assert_num_queries(len(with_two)):
        html = desk.get(url).content.decode()
    assert html.count('data-testid="renewal-session"') == 8
