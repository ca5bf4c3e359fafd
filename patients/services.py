"""Writes to patient records. Each is one transaction and validates with ``full_clean``."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import timedelta, tzinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from clinic.errors import Conflict
from patients.models import CONSENT_NOT_RECORDED, Patient, PatientAccess

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


# Where a patient's days are counted ("today" for a birth or enrolment date, the day a consent shows on):
# the patient's home location, which only scheduling knows. It registers a finder at start-up, called
# with (patient_id or None for a new patient, the member of staff); the clinic's zone when none answers.
_home_zone_finders: list[Callable[[int | None, Any], tzinfo | None]] = []


def on_home_zone(finder: Callable[[int | None, Any], tzinfo | None]) -> Callable:
    if finder not in _home_zone_finders:
        _home_zone_finders.append(finder)
    return finder


def home_zone(*, patient_id: int | None, user) -> tzinfo:
    """The time zone of ``patient_id``'s home location (or ``user``'s), else the clinic's (``TIME_ZONE``)."""
    for finder in _home_zone_finders:
        zone = finder(patient_id, user)
        if zone is not None:
            return zone
    return timezone.get_default_timezone()


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


def _new_record(values: dict[str, Any], *, by) -> Patient:
    patient = Patient(**{key: value for key, value in values.items() if key in EDITABLE_FIELDS or key == "mrn"})
    patient.created_by = by
    return patient


def _apply_changes(record: Patient, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if key in EDITABLE_FIELDS:
            setattr(record, key, value)
    if "sms_consent" in changes and not changes["sms_consent"]:
        record.sms_consent_at = None
        record.sms_consent_method = ""


def _validate(record: Patient, *, by, method_before: str | None, exclude: Collection[str] = ()) -> None:
    """``full_clean`` at the patient's home date, plus: "not recorded" is kept from the past, never chosen."""
    errors: dict[str, list[str]] = {}
    try:
        with timezone.override(home_zone(patient_id=record.pk, user=by)):
            record.full_clean(exclude=exclude or None)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if (record.sms_consent_method == CONSENT_NOT_RECORDED and method_before != CONSENT_NOT_RECORDED
            and "sms_consent_method" not in exclude):
        errors.setdefault("sms_consent_method", []).append("Choose how the patient gave consent.")
    if errors:
        raise ValidationError(errors)


def field_errors(*, values: dict[str, Any], patient: Patient | None = None, by=None,
                 unreadable: Collection[str] = ()) -> dict[str, list[str]]:
    """The field errors creating (``patient`` None) or changing ``patient`` with ``values`` would give.

    Writes nothing. A form that could not read some fields (``unreadable``)
    asks for the rest, so the desk sees every error at once, in the words
    ``create_patient`` / ``update_patient`` use.
    """
    values = {key: value for key, value in values.items() if key not in unreadable}
    if patient is None:
        record, method_before, exclude = _new_record(values, by=by), None, {*unreadable, "mrn"}
    else:
        record = Patient.objects.get(pk=patient.pk)
        method_before, exclude = record.sms_consent_method, set(unreadable)
        _apply_changes(record, values)
    try:
        _validate(record, by=by, method_before=method_before, exclude=exclude)
    except ValidationError as error:
        return error.message_dict
    return {}


@transaction.atomic
def create_patient(*, by, values: dict[str, Any], confirm_new: bool = False) -> Patient:
    """Create a patient record.

    Refuses with 409 ``possible_duplicate`` when a current patient has the same
    name and date of birth, unless ``confirm_new``; generates the MRN when none
    is given; raises ValidationError (400) for any invalid field (every one at
    once), dates judged at the home location's today (``home_zone``).
    """
    patient = _new_record(values, by=by)
    if not patient.mrn:
        patient.mrn = _next_mrn()
    _validate(patient, by=by, method_before=None)
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
    method_before = locked.sms_consent_method
    _apply_changes(locked, changes)
    _validate(locked, by=by, method_before=method_before)
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
