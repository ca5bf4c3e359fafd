"""Writes to patient records. Each is one transaction and validates with ``full_clean``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from clinic.errors import Conflict
from patients.models import Patient, PatientAccess

# Fields staff may set; MRN only at creation, opt-out and archive never directly.
EDITABLE_FIELDS = tuple(
    field.name
    for field in Patient._meta.get_fields()
    if getattr(field, "editable", False) and field.concrete and not field.primary_key
    and field.name not in {"mrn", "created_at", "updated_at"}
)


# Called with (patient_id, can_receive_texts) when consent, opt-out or phone
# changes. Scheduling registers its reminder planner here at start-up, because
# patients may not import scheduling.
_text_consent_listeners: list[Callable[[int, bool], None]] = []


def on_text_consent_change(listener: Callable[[int, bool], None]) -> None:
    if listener not in _text_consent_listeners:
        _text_consent_listeners.append(listener)


def _notify_text_consent(before: tuple, patient: Patient) -> None:
    after = (patient.sms_consent, patient.sms_opted_out_at, patient.phone)
    if before != after:
        for listener in _text_consent_listeners:
            listener(patient.pk, patient.can_receive_texts)


def _next_mrn() -> str:
    # A database sequence, not max()+1, so two desks creating patients at once never collide.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('patients_mrn_seq')")
        return f"MRN{cursor.fetchone()[0]}"


def possible_duplicates(*, first_name: str, last_name: str, date_of_birth, exclude_id: int | None = None):
    """Current patients with the same name (any case) and date of birth."""
    matches = Patient.objects.current().annotate(lf=Lower("first_name"), ll=Lower("last_name")).filter(
        lf=(first_name or "").strip().lower(), ll=(last_name or "").strip().lower(), date_of_birth=date_of_birth
    )
    if exclude_id is not None:
        matches = matches.exclude(id=exclude_id)
    return matches


@transaction.atomic
def create_patient(*, by, values: dict[str, Any], confirm_new: bool = False) -> Patient:
    """Create a patient record.

    Refuses with 409 ``possible_duplicate`` when a current patient has the same
    name and date of birth, unless ``confirm_new``; generates the MRN when none
    is given; raises ValidationError (400) for any invalid field.
    """
    patient = Patient(**{key: value for key, value in values.items() if key in EDITABLE_FIELDS or key == "mrn"})
    patient.created_by = by
    if not patient.mrn:
        patient.mrn = _next_mrn()
    patient.full_clean()
    if not confirm_new:
        duplicates = list(possible_duplicates(first_name=patient.first_name, last_name=patient.last_name,
                                              date_of_birth=patient.date_of_birth)[:5])
        if duplicates:
            raise Conflict(
                "A patient with this name and date of birth already exists. "
                "Open the existing record, or confirm that this is a different person.",
                code="possible_duplicate",
                extra={"matches": [{"id": p.id, "mrn": p.mrn, "name": p.display_name} for p in duplicates]},
            )
    patient.save()
    return patient


@transaction.atomic
def update_patient(*, patient: Patient, by, changes: dict[str, Any]) -> Patient:
    """Apply ``changes`` to an editable subset of fields; archived records are read-only (409)."""
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if locked.is_archived:
        raise Conflict("This patient's record is archived and cannot be changed.", code="archived")
    texting_before = (locked.sms_consent, locked.sms_opted_out_at, locked.phone)
    for key, value in changes.items():
        if key in EDITABLE_FIELDS:
            setattr(locked, key, value)
    if "sms_consent" in changes and not changes["sms_consent"]:
        locked.sms_consent_at = None
        locked.sms_consent_method = ""
    locked.full_clean()
    locked.save()
    _notify_text_consent(texting_before, locked)
    return locked


@transaction.atomic
def archive_patient(*, patient: Patient, by) -> Patient:
    """Archive instead of delete: the record and its history stay, it leaves lists and search."""
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    locked.archive(by=by)
    return locked


def record_access(*, patient: Patient, user, channel: str, path: str = "") -> None:
    """Log that ``user`` opened ``patient``'s record; never skipped, even for managers."""
    PatientAccess.objects.create(patient=patient, user=user, channel=channel, path=path[:300])


def record_accesses(*, patient_ids: Iterable[int], user, channel: str, path: str = "") -> None:
    """Log that ``user`` read each of these patients' records (one INSERT however many)."""
    PatientAccess.objects.bulk_create([
        PatientAccess(patient_id=patient_id, user=user, channel=channel, path=path[:300])
        for patient_id in sorted(set(patient_ids))
    ])


def record_exports_daily(*, patient_ids: Iterable[int], user, path: str, now=None) -> None:
    """Log an export of these patients' data to ``user``, once per patient, user and path a day.

    For exports fetched by machines on a timer (a calendar app polls its feed
    every few minutes): the log says whose data left and to whom, each day,
    without a row per poll.
    """
    now = now or timezone.now()
    wanted = set(patient_ids)
    if not wanted:
        return
    already = set(PatientAccess.objects.filter(
        user=user, channel=PatientAccess.Channel.EXPORT, path=path[:300], patient_id__in=wanted,
        at__gte=now - timedelta(days=1)).values_list("patient_id", flat=True))
    record_accesses(patient_ids=wanted - already, user=user, channel=PatientAccess.Channel.EXPORT, path=path)
