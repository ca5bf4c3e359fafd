"""The REMS pages in the clinic's words: human dates, one order of medicines, and who the patient is.

``esk_session`` is Tuesday 3 March 2026 at 09:00 in New York (tests/scheduling/conftest.py); its patient
was born on 17 May 1980 (tests/factories.py). The browser test is tests/browser/clinician/test_rems_pages.py.
"""

from __future__ import annotations

import re

import pytest

from patients.models import MEDICINE_FIELDS, Patient
from scheduling.charting import rems
from scheduling.models import RemsForm
from tests.factories import PatientFactory, RemsFormFactory, SessionRowFactory
from tests.scheduling.pages.chart_page_steps import NORMAL, discharged, dosed, later, step

pytestmark = pytest.mark.django_db

ISO_DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b")
# The form's own order (patients.models.MEDICINE_FIELDS), as its labels read.
FORM_ORDER = ["Takes benzodiazepines", "Takes non-benzodiazepine sedative hypnotics", "Takes psychostimulants",
              "Takes MAOIs", "Takes opioids"]


def _medicine_labels(page: str) -> list[str]:
    return re.findall(r'data-testid="medicine-label">([^<]+)<', page)


def _shown_text(page: str) -> str:
    """What a reader sees of the page's main part, spaced as one line: no tags, so no attributes either."""
    return " ".join(re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1]).split())


def test_a_submitted_form_lists_the_medicines_in_the_same_order_as_a_draft(nurse, esk_session, clock):
    # given a fully charted session whose patient takes an opioid and was asked about the rest
    Patient.objects.filter(pk=esk_session.patient_id).update(**{**{name: "no" for name in MEDICINE_FIELDS},
                                                                "takes_opioids": "yes"})
    discharged(nurse, esk_session, clock)
    form = RemsForm.objects.get(session=esk_session)
    # when the form is read before it is submitted
    draft = nurse.get(f"/rems/{form.pk}/").content.decode()
    # then the medicines are in the form's own order
    assert _medicine_labels(draft) == FORM_ORDER
    # when it is submitted, and its content comes back from the database (JSON that keeps no key order)
    assert nurse.post(f"/rems/{form.pk}/submit/", {"confirmation_number": "RC-1"}).status_code == 302
    form.refresh_from_db()
    assert list(form.submitted_content["concomitant_medicines"]) != [key for key, _label in rems.FORM_MEDICINES]
    submitted = nurse.get(f"/rems/{form.pk}/").content.decode()
    # then the submitted form lists them in the same order, each with its own answer
    assert _medicine_labels(submitted) == FORM_ORDER
    answers = re.findall(r'data-testid="medicine-answer">([^<]+)<', submitted)
    assert answers == ["No", "No", "No", "No", "Yes"]


def test_the_form_shows_dates_in_words_and_a_late_time_beside_its_day(nurse, esk_session, clock):
    # given a session discharged without its 40-minute reading, which is then entered late from paper
    dosed(nurse, esk_session, clock)
    later(nurse, clock, 60)
    assert step(nurse, esk_session, "assessment", {"sedation": "none", "dissociation": "mild",
                                                   "respiratory": "normal"}).status_code == 302
    later(nurse, clock, 131)
    assert step(nurse, esk_session, "vitals", {"kind": "discharge", **NORMAL}).status_code == 302
    assert step(nurse, esk_session, "discharge", {"resolution_attested": "on", "driver": "Her sister",
                                                  "could_have_left_after_minutes": "90"}).status_code == 302
    later(nurse, clock, 150)
    late = step(nurse, esk_session, "vitals", {"kind": "post_dose_40", **NORMAL, "taken_at": "09:50",
                                               "late_reason": "Written on the paper chart"})
    assert late.status_code == 302, late.content.decode()
    form = RemsForm.objects.get(session=esk_session)
    # when the form is opened
    page = nurse.get(f"/rems/{form.pk}/").content.decode()
    shown = _shown_text(page)
    # then its dates are the clinic's, the patient is named with date of birth and MRN, and no ISO date is shown
    assert re.search(r'data-testid="rems-session-date">Tue Mar 3, 2026<', page)
    assert re.search(r'data-testid="rems-date-of-birth">May 17, 1980<', page)
    patient = esk_session.patient
    assert f"born May 17, 1980 · MRN {patient.mrn} · session of Tue Mar 3, 2026" in shown
    assert "at 09:50 (late: entered 11:30): Written on the paper chart" in shown
    assert not ISO_DATE.search(shown), ISO_DATE.findall(shown)


def test_two_patients_of_one_name_are_told_apart_on_the_list(nurse, esk_session, site, chair2, clock):
    # given two forms, for two patients both called Harriet Okonkwo
    first = esk_session.patient
    Patient.objects.filter(pk=first.pk).update(first_name="Harriet", last_name="Okonkwo")
    namesake = PatientFactory(first_name="Harriet", last_name="Okonkwo", date_of_birth="1991-11-02")
    RemsFormFactory(session=esk_session, missing=["Dose"])
    RemsFormFactory(session=SessionRowFactory(chair=chair2, patient=namesake), missing=["Dose"])
    first.refresh_from_db()
    # when the clinician opens the list
    shown = _shown_text(nurse.get("/rems/").content.decode())
    # then each is shown with date of birth and MRN, and the sessions' dates are the clinic's
    assert f"Harriet Okonkwo born May 17, 1980 · MRN {first.mrn}" in shown
    assert f"Harriet Okonkwo born Nov 2, 1991 · MRN {namesake.mrn}" in shown
    assert "Tue Mar 3, 2026" in shown
    assert not ISO_DATE.search(shown), ISO_DATE.findall(shown)
