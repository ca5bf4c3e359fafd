"""The REMS Patient Monitoring Form, filled from the session record.

The form is never typed twice: its content is read from the chart, and what
is missing is listed in the form's own words so the clinician knows what to
add. On submission the content is frozen as the REMS received it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import CLINICIAN, MANAGER, has_role
from patients.models import MEDICINE_FIELDS, MedicineAnswer, Patient
from scheduling.charting import timing
from scheduling.charting.observation import in_checkpoint_window
from scheduling.models import (
    DeviceGiven,
    EntryKind,
    LedgerEntry,
    LeftBeforeDischarge,
    RemsForm,
    RemsFormStatus,
    Session,
    Severity,
    VitalsKind,
)
from scheduling.tasks import refresh_course_worklist_on_commit

MINIMUM_MONITORING_MINUTES = 120
# The form's concomitant medicines in the form's own order (``patients.models.MEDICINE_FIELDS``), keyed as
# ``concomitant_medicines`` holds them, with their labels. Read the answers through ``medicine_answers``:
# a submitted form's content is stored as JSON that keeps no key order (PostgreSQL's jsonb sorts keys by
# length), so walking its keys would list MAOIs first on a submitted form and benzodiazepines on a draft.
FORM_MEDICINES = tuple((name.removeprefix("takes_"), Patient._meta.get_field(name).verbose_name)
                       for name in MEDICINE_FIELDS)


def _bp(vitals) -> str | None:
    return f"{vitals.systolic}/{vitals.diastolic}" if vitals else None


def _local(moment, location) -> str:
    return f"{location.local(moment):%Y-%m-%d %H:%M}" if location is not None else moment.isoformat()


def late_entries(session: Session, dose, vitals, assessments, devices) -> list[dict]:
    """Every charted time entered more than 15 minutes after it, with its reason, in the order they happened."""
    found = []

    def note(what: str, at, entered_at, reason: str) -> None:
        if timing.is_late(at, entered_at):
            found.append({"what": what, "at": at, "entered_at": entered_at, "reason": reason})

    note("Arrival", session.checked_in_at, session.checked_in_entered_at, session.checked_in_late_reason)
    for reading in vitals:
        note(f"Vital signs ({reading.get_kind_display().lower()})", reading.taken_at, reading.recorded_at,
             reading.late_reason)
    if dose is not None:
        if not devices:
            note("First device" if dose.devices else "Infusion start", dose.started_at, dose.recorded_at,
                 dose.late_reason)
        note("Infusion end", dose.infusion_ended_at, dose.infusion_end_entered_at, dose.infusion_end_late_reason)
    for device in devices:
        note(f"Device {device.number}", device.given_at, device.entered_at, device.late_reason)
    for assessment in assessments:
        note("Assessment", assessment.assessed_at, assessment.recorded_at, assessment.late_reason)
    note("Discharge", session.discharged_at, session.discharge_entered_at, session.discharge_late_reason)
    note("Left before discharge", session.left_at, session.left_entered_at, session.left_late_reason)
    found.sort(key=lambda entry: entry["at"])
    return [{**entry, "at": _local(entry["at"], session.location),
             "entered_at": _local(entry["entered_at"], session.location)} for entry in found]


def dispensed_lot(session: Session):
    """The lot the session's dose was dispensed from, read from the stock ledger (None for a dose charted before it)."""
    entry = (LedgerEntry.objects.filter(session=session, kind=EntryKind.DISPENSE).select_related("lot")
             .order_by("at", "id").first())
    return entry.lot if entry else None


def form_content(session: Session) -> tuple[dict, list[str]]:
    """The form's sections as a dict, and the list of what the record still lacks."""
    patient: Patient = session.patient
    protocol = session.course.protocol
    dose = getattr(session, "dose", None)
    all_vitals = vitals = list(session.vitals.all())
    assessments = list(session.assessments.all())

    def latest(kind):
        matching = [v for v in vitals if v.kind == kind]
        return matching[-1] if matching else None

    # Vitals belong to their moment: before the first device, 35-50 minutes after it, within 15 before discharge.
    def within(reading) -> bool:
        if reading.kind == VitalsKind.PRE_DOSE:
            return dose is None or reading.taken_at <= dose.started_at
        if reading.kind == VitalsKind.POST_DOSE_40:
            return in_checkpoint_window(reading, dose)
        if reading.kind == VitalsKind.DISCHARGE and session.discharged_at is not None:
            return timedelta(0) <= session.discharged_at - reading.taken_at <= timing.DISCHARGE_VITALS_WITHIN
        return True

    vitals = [reading for reading in vitals if within(reading)]
    pre, at_40, before_discharge = latest(VitalsKind.PRE_DOSE), latest(VitalsKind.POST_DOSE_40), \
        latest(VitalsKind.DISCHARGE)
    monitoring_minutes = None
    if dose and session.ended_at:
        monitoring_minutes = int((session.ended_at - dose.started_at).total_seconds() // 60)
    left = session.left_at is not None
    clinician = session.discharged_by or session.left_recorded_by or session.clinician
    devices = list(DeviceGiven.objects.filter(dose=dose).order_by("number")) if dose else []
    prescriber = dose.prescriber_on_site if dose else None
    lot = dispensed_lot(session) if dose else None

    def acceptable(reading, acknowledged: bool) -> bool | None:
        if reading is None:
            return None
        within = not reading.bp_above(protocol.bp_systolic_max, protocol.bp_diastolic_max) \
            and reading.spo2 >= protocol.spo2_min
        return within or acknowledged

    sedation = [a.sedation for a in assessments]
    dissociation = [a.dissociation for a in assessments]
    serious = [a.adverse_event_description for a in assessments if a.adverse_event_serious]
    content = {
        "patient": {
            "name": f"{patient.first_name} {patient.last_name}",
            "date_of_birth": patient.date_of_birth.isoformat(),
            "sex": patient.get_sex_display() if patient.sex != "unknown" else None,
            "rems_patient_id": patient.rems_patient_id or None,
        },
        "concomitant_medicines": {key: getattr(patient, f"takes_{key}") for key, _label in FORM_MEDICINES},
        "prescriber_on_site": (prescriber.get_full_name() or prescriber.get_username()) if prescriber else None,
        "monitoring": {
            "clinician": (clinician.get_full_name() or clinician.get_username()) if clinician else None,
            "setting": session.location.name if session.location else None,
            "address": session.location.address if session.location else None,
        },
        "session_date": session.local_date.isoformat(),
        "dose": {
            "mg": None if dose is None else (int(dose.dose_mg) if dose.dose_mg in (56, 84) else "other"),
            "other_mg": None if dose is None or dose.dose_mg in (56, 84) else str(dose.dose_mg),
            "lot_number": lot.lot_number if lot else (dose.lot_number or None if dose else None),
            "lot_expiry": lot.expiry.isoformat() if lot else None,
        },
        "monitoring_minutes": monitoring_minutes,
        "could_have_left_after_minutes": session.could_have_left_after_minutes,
        "vitals_acceptable_before_dosing": acceptable(pre, session.high_bp_acknowledged_at is not None),
        "vitals_acceptable_before_discharge": acceptable(before_discharge, False),
        "blood_pressure": {"before_dosing": _bp(pre), "at_40_minutes": _bp(at_40),
                           "before_discharge": _bp(before_discharge)},
        "pulse_oximetry": {"lowest_spo2": min((v.spo2 for v in vitals), default=None),
                           "readings": len(vitals)},
        "sedation": {"occurred": any(level != Severity.NONE for level in sedation) if sedation else None,
                     "resolved": session.resolution_attested if sedation else None},
        "dissociation": {"occurred": any(level != Severity.NONE for level in dissociation) if dissociation else None,
                         "resolved": session.resolution_attested if dissociation else None},
        "serious_adverse_events": serious,
        "left_before_discharge": None if not left else {
            "how": session.get_left_kind_display(), "at": _local(session.left_at, session.location),
            "reason": session.left_reason, "with": session.left_with},
        "devices": [{"number": d.number, "at": _local(d.given_at, session.location), "rest_reason": d.rest_reason}
                    for d in devices],
        "late_entries": [{**entry} for entry in late_entries(session, dose, all_vitals, assessments, devices)],
    }
    not_asked = [label.removeprefix("takes ") for label, answer in medicine_answers(content)
                 if answer == MedicineAnswer.NOT_ASKED]
    checks = [
        (content["patient"]["sex"], "Patient's sex"),
        (not not_asked, "Concomitant medicines not asked: " + ", ".join(not_asked)),
        (content["monitoring"]["clinician"], "Monitoring clinician"),
        (dose, "Dose"),
        (content["dose"]["lot_number"], "Lot number"),
        (monitoring_minutes is not None, "Time from first device to end of monitoring"),
        (pre, "Blood pressure before dosing"),
    ]
    if left:
        # Left before discharge: what could not be done after the patient left is not asked for.
        checks.append((session.left_kind != LeftBeforeDischarge.EMERGENCY_TRANSFER or serious,
                       "Serious adverse event (the patient was transferred to emergency care)"))
    else:
        checks += [
            (session.could_have_left_after_minutes is not None, "“Could have left after” minutes"),
            (at_40, "Blood pressure at about 40 minutes"),
            (before_discharge, "Blood pressure before discharge"),
            (sedation, "Sedation assessment"),
            (dissociation, "Dissociation assessment"),
        ]
    missing = [label for value, label in checks if not value]
    if not left and monitoring_minutes is not None and monitoring_minutes < MINIMUM_MONITORING_MINUTES:
        missing.append("Monitoring of at least 120 minutes")
    return content, missing


def medicine_answers(content: dict) -> list[tuple[str, str | bool]]:
    """``(label, answer)`` per concomitant medicine of ``content`` (a draft or a submitted form), in form order."""
    answers = content["concomitant_medicines"]
    return [(label, answers[key]) for key, label in FORM_MEDICINES if key in answers]


def refresh_form(session: Session) -> RemsForm:
    """Create the session's form or bring its missing list and status up to date (a submitted form stays)."""
    form, _ = RemsForm.objects.get_or_create(session=session)
    if form.status == RemsFormStatus.SUBMITTED:
        return form
    _content, missing = form_content(session)
    form.missing = missing
    form.status = RemsFormStatus.DRAFT if missing else RemsFormStatus.READY
    form.save(update_fields=["missing", "status"])
    return form


@transaction.atomic
def submit_form(*, by, form: RemsForm, confirmation_number: str) -> RemsForm:
    """Mark the form submitted to the REMS with its confirmation number; only a complete form (409 otherwise)."""
    if not has_role(by, CLINICIAN, MANAGER):
        raise NotAllowed("Only a clinician or a manager may submit a REMS form.", code="not_allowed")
    number = (confirmation_number or "").strip()
    if not number:
        raise Invalid("The REMS confirmation number is required.",
                      fields={"confirmation_number": ["Required."]})
    form = RemsForm.objects.select_for_update().select_related("session").get(pk=form.pk)
    if form.status == RemsFormStatus.SUBMITTED:
        raise Conflict("This form was already submitted.", code="invalid_state", extra={"status": form.status})
    session = Session.objects.select_related("patient", "course__protocol", "location", "dose", "clinician",
                                             "discharged_by").get(pk=form.session_id)
    content, missing = form_content(session)
    if missing:
        form.missing, form.status = missing, RemsFormStatus.DRAFT
        form.save(update_fields=["missing", "status"])
        raise Conflict("The form is incomplete: " + "; ".join(missing) + ".", code="rems_form_incomplete",
                       extra={"missing": missing})
    form.status = RemsFormStatus.SUBMITTED
    form.submitted_at, form.submitted_by = timezone.now(), by
    form.confirmation_number = number
    form.submitted_content = content
    form.missing = []
    form.save()
    refresh_course_worklist_on_commit(session.course_id)
    return form


def forms_by_urgency(queryset, status: str | None, now: datetime):
    """Filter by ``due``/``overdue``/``submitted``/``draft``/``ready``."""
    if status == "due":
        return queryset.due(now)
    if status == "overdue":
        return queryset.overdue(now)
    if status in RemsFormStatus.values:
        return queryset.filter(status=status)
    return queryset
