"""The outbox: the demo's stand-in for phones, where texts land and patients' replies are typed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from clinic.models import OutboxMessage
from patients.models import Patient
from scheduling.messaging import inbound
from scheduling.models import (
    Direction,
    Location,
    Session,
    TextMessage,
)


def simulated_provider_id() -> str:
    """A message id for a reply typed on the outbox page (real provider ids never start with SIM)."""
    return f"SIM{uuid.uuid4().hex}"


@dataclass(frozen=True)
class OutboxEntry:
    """An outbox text with the patient it went to and the time at their clinic, when known."""

    message: OutboxMessage
    patient: Patient | None
    location: Location | None

    @property
    def local_at(self) -> datetime | None:
        return self.location.local(self.message.created_at) if self.location else None


def outbox_entries(messages: list[OutboxMessage]) -> list[OutboxEntry]:
    """Each text with its patient (by the message record, else by number) and location, in three queries."""
    texts = {text.provider_id: text for text in TextMessage.objects.filter(
        direction=Direction.OUTBOUND, provider_id__in=[m.provider_id for m in messages]
    ).select_related("patient", "session__location")}
    by_phone: dict[str, Patient] = {}
    unmatched = {m.to for m in messages if getattr(texts.get(m.provider_id), "patient", None) is None}
    for patient in Patient.objects.current().filter(phone__in=unmatched).order_by("id"):
        by_phone.setdefault(patient.phone, patient)
    rows = []
    for message in messages:
        text = texts.get(message.provider_id)
        patient = text.patient if text and text.patient else by_phone.get(message.to)
        location = text.session.location if text and text.session else None
        rows.append((message, patient, location))
    need_location = {patient.pk for _, patient, location in rows if patient and location is None}
    latest = {session.patient_id: session.location for session in Session.objects.filter(
        patient_id__in=need_location, location__isnull=False
    ).select_related("location").order_by("patient_id", "-start").distinct("patient_id")}
    return [OutboxEntry(message=message, patient=patient,
                        location=location or (latest.get(patient.pk) if patient else None))
            for message, patient, location in rows]


def simulate_reply(*, phone: str, body: str) -> inbound.InboundResult:
    """Answer an outbox text as the patient at ``phone`` would: through the same code as a real reply."""
    return inbound.handle_inbound(from_phone=phone, to_phone=settings.TWILIO_FROM_NUMBER or settings.CLINIC_PHONE,
                                  body=body[:1600], provider_id=simulated_provider_id())
