"""Sixteen patients answer YES to offers of one freed time at the same instant, through the signed SMS webhook."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection
from django.test import Client

from scheduling.messaging.offers_planning import plan_offers
from scheduling.messaging.offers_replies import TAKEN_TEXT
from scheduling.models import OfferState, ReminderState, Session
from tests.scheduling.messaging.offer_world import freed_time, last_seen, offered, send_due_offers
from tests.scheduling.messaging.provider_webhooks import text_in, texts_to

ANSWERS = 16


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sixteen_yes_at_once_book_the_time_once_and_tell_fifteen_it_has_gone(site, chair, clinician, now, settings,
                                                                             sent_texts):
    # given sixteen due patients, each sent an offer of Wednesday 10:00
    settings.OFFERS_AT_ONCE = ANSWERS
    patients = [last_seen(site, clinician, date(2026, 2, 27 + n % 2)).patient for n in range(ANSWERS)]
    freed = freed_time(chair)
    plan_offers(freed)
    assert send_due_offers() == [ReminderState.SENT] * ANSWERS
    barrier = threading.Barrier(ANSWERS)

    def answer(patient):
        try:
            barrier.wait(timeout=30)
            return text_in(Client(), patient, "YES").status_code
        finally:
            connection.close()

    # when they all answer YES at once
    with ThreadPoolExecutor(max_workers=ANSWERS) as pool:
        statuses = list(pool.map(answer, patients))
    # then every answer was accepted, exactly one booked, and the fifteen others were told it had gone
    assert statuses == [200] * ANSWERS
    assert Session.objects.filter(chair=chair, start=freed.start).count() == 1
    answers = [texts_to(patient.phone)[-1]["body"] for patient in patients]
    assert answers.count(TAKEN_TEXT) == ANSWERS - 1
    assert sum(body.startswith("Booked: ") for body in answers) == 1
    states = sorted(offer.state for offer in offered(freed))
    assert states.count(OfferState.TAKEN) == 1 and states.count(OfferState.VOID) == ANSWERS - 1
