"""The "Text the patient" section as the browser gets it: loaded by the patient page, refusals with the API's status."""

from __future__ import annotations

import uuid

import pytest
from django.template.loader import render_to_string

from clinic.models import OutboxMessage

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def desk(client, front_desk, settings):
    settings.SMS_BACKEND = "outbox"
    client.force_login(front_desk)
    return client


def url(patient) -> str:
    return f"/patients/{patient.pk}/text/"


def test_included_with_only_the_patient_the_section_loads_itself(patient):
    # the patient page includes it with its own context, which knows nothing of texts
    html = render_to_string("scheduling/pages/_patient_text.html", {"patient": patient})
    assert f'hx-get="{url(patient)}" hx-trigger="load"' in html
    assert f'<a href="{url(patient)}">' in html  # without scripts, a page of its own


def test_htmx_gets_the_section_and_a_sent_text_swaps_it_with_the_result(desk, patient, now):
    section = desk.get(url(patient), **HTMX)
    assert section.status_code == 200
    assert section.content.decode().lstrip().startswith('<section id="patient-text"')
    answer = desk.post(url(patient), {"message": "Please call us", "form_key": str(uuid.uuid4())}, **HTMX)
    assert answer.status_code == 200
    assert 'data-testid="text-result" data-state="sent"' in answer.content.decode()
    assert OutboxMessage.objects.get().body.endswith(": Please call us")


def test_refusals_answer_with_the_apis_status_and_a_plain_form_goes_back_to_the_patient(desk, patient, now):
    unsafe = desk.post(url(patient), {"message": "Your infusion", "form_key": str(uuid.uuid4())}, **HTMX)
    assert unsafe.status_code == 400
    assert 'data-code="unsafe_text"' in unsafe.content.decode()
    type(patient).objects.filter(pk=patient.pk).update(phone="", sms_consent=False, sms_consent_method="")
    no_phone = desk.post(url(patient), {"message": "Hello", "form_key": str(uuid.uuid4())}, **HTMX)
    assert no_phone.status_code == 409
    assert OutboxMessage.objects.count() == 0
    type(patient).objects.filter(pk=patient.pk).update(phone="+14155550199", sms_consent=True,
                                                       sms_consent_method="verbal")
    plain = desk.post(url(patient), {"message": "Hello", "form_key": str(uuid.uuid4())})
    assert (plain.status_code, plain["Location"]) == (302, f"/patients/{patient.pk}/")


def test_a_user_without_a_clinic_role_is_refused(client, no_role_user, patient, now):
    client.force_login(no_role_user)
    assert client.get(url(patient)).status_code == 403
    assert client.post(url(patient), {"message": "Hello", "form_key": str(uuid.uuid4())}).status_code == 403
