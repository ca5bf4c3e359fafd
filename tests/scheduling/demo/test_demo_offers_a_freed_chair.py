"""The demo leaves someone to offer a freed chair to: a cancel of the next visit at each site, of each
treatment, is offered by text to due, consenting, unbooked patients (docs/OFFERS.md).

The demo is loaded once, on Monday 2 March 2026 at 09:00 in New York. The demo books IV
visits on some days only, so each case cancels the site's next visit of its treatment.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.conf import settings

from protocols.models import Modality, TreatmentCourse
from scheduling.booking.services import cancel_session
from scheduling.messaging import offers_planning
from scheduling.models import (
    UPCOMING_STATUSES,
    Direction,
    Location,
    OfferState,
    OfferText,
    Outreach,
    Session,
    TextMessage,
)
from tests.scheduling.demo.conftest import new_york

# The clock stands at the demo's moment (tests/conftest.py ``NOW`` is Monday 2 March, 09:00 in New York).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
MONDAY_NINE = new_york(date(2026, 3, 2), time(9))
CASES = [(site, modality) for site in ("Midtown", "Westside")
         for modality in (Modality.ESKETAMINE_NASAL, Modality.KETAMINE_IV)]


@pytest.fixture(scope="module")
def demo(demo_world):
    with demo_world.at(MONDAY_NINE):
        yield


def _next_visit(site: Location, modality: str) -> Session:
    """The site's next visit of ``modality`` far enough ahead to be offered when cancelled."""
    notice = MONDAY_NINE + timedelta(hours=settings.FREED_CHAIR_MIN_NOTICE_HOURS)
    session = (Session.objects.filter(location=site, start__gte=notice, status__in=UPCOMING_STATUSES,
                                      course__modality=modality, chair__isnull=False)
               .select_related("course").order_by("start", "id").first())
    assert session is not None, f"the demo books no {modality} visit at {site.name}"
    return session


def _offered_next_visit(site_name: str, modality: str) -> list[offers_planning.Candidate]:
    """Who could be offered the site's next visit of ``modality`` if it were cancelled."""
    session = _next_visit(Location.objects.get(name=site_name), modality)
    freed = offers_planning.freed_by(session, now=MONDAY_NINE)
    return offers_planning.candidates(freed, day=session.local_date, now=MONDAY_NINE)


@pytest.mark.parametrize(("site_name", "modality"), CASES)
def test_the_next_visit_of_each_treatment_at_each_site_has_patients_to_offer_it_to(demo, site_name, modality):
    # given / when
    found = _offered_next_visit(site_name, modality)
    # then
    assert found, f"nobody to offer a freed {modality} time at {site_name}"
    for candidate in found:
        course = TreatmentCourse.objects.select_related("patient").get(pk=candidate.course_id)
        assert course.modality == modality
        assert course.patient.can_receive_texts


@pytest.mark.parametrize(("site_name", "modality"), CASES)
def test_cancelling_the_next_visit_plans_offers_with_texts(demo, front_desk, site_name, modality):
    # given
    site = Location.objects.get(name=site_name)
    session = _next_visit(site, modality)
    freed = offers_planning.freed_by(session, now=MONDAY_NINE)
    # when
    cancel_session(by=front_desk, session=session, reason="Patient has a cold", now=MONDAY_NINE)
    offers = offers_planning.plan_offers(freed, now=MONDAY_NINE)
    # then
    assert offers
    assert {offer.state for offer in offers} == {OfferState.PLANNED}
    assert OfferText.objects.filter(offer__in=offers).count() == len(offers)


@pytest.mark.parametrize(("site_name", "modality"), CASES)
def test_the_patients_offered_have_no_due_visit_text_waiting_to_use_up_the_days_one_text(demo, site_name, modality):
    # given the demo's first morning: the worklist sweep has planned its due-visit texts
    # when
    found = _offered_next_visit(site_name, modality)
    # then some of them have no text today, sent or waiting, that the one-text-a-day limit would set against
    # the offer (a due patient's morning text skips their offer, and the next patients are offered)
    patients = {candidate.patient_id for candidate in found}
    texted = set(Outreach.objects.filter(patient_id__in=patients).values_list("patient_id", flat=True))
    texted |= set(TextMessage.objects.filter(patient_id__in=patients, direction=Direction.OUTBOUND,
                                             at__gte=MONDAY_NINE - timedelta(days=1))
                  .values_list("patient_id", flat=True))
    assert patients - texted, f"every patient offered at {site_name} has a text today"
