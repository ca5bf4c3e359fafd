"""A session, step by step: check-in, vitals, dose, assessment, discharge (docs/DOMAIN.md).

Each step is a service with its own state check (409 ``invalid_state``
naming the current state) and its own safety rules. Every step locks the
session row, so two clinicians charting the same session on two screens
cannot interleave a dose and a discharge.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import CLINICIAN, has_role
from protocols import dose_rules, eligibility
from protocols.models import Modality
from protocols.services import complete_course_if_finished
from scheduling.charting import rems
from scheduling.charting.outcomes import unacknowledged_item9_alert
from scheduling.models import (
    VITAL_LIMITS,
    Assessment,
    Dose,
    Session,
    SessionStatus,
    VitalSigns,
    VitalsKind,
)
from scheduling.tasks import refresh_course_worklist_on_commit

# IV dosing limits a typing error cannot pass.
WEIGHT_KG_LIMITS = (Decimal("25"), Decimal("350"))
MG_PER_KG_LIMITS = (Decimal("0.05"), Decimal("2.00"))
COULD_HAVE_LEFT_LIMIT = 600


def _locked(session: Session) -> Session:
    return (Session.objects.select_for_update(of=("self",))
            .select_related("course__protocol", "patient", "location").get(pk=session.pk))


def _require_state(session: Session, *allowed: str, action: str) -> None:
    if session.status not in allowed:
        raise Conflict(f"This session is {session.get_status_display().lower()}, so it cannot be {action}.",
                       code="invalid_state", extra={"status": session.status})


def _require_clinician(by, action: str) -> None:
    if not has_role(by, CLINICIAN):
        raise NotAllowed(f"Only a clinician may {action}.", code="clinician_only")


def _moment(value: datetime | None, *, field: str, now: datetime, not_before: datetime | None,
            not_before_label: str) -> datetime:
    """A recorded time: defaults to now, may be after the fact, never in the future or before ``not_before``."""
    moment = value or now
    if moment > now + timedelta(minutes=1):
        raise Invalid("A recorded time cannot be in the future.", fields={field: ["Cannot be in the future."]})
    if not_before is not None and moment < not_before:
        raise Invalid(f"This cannot be before {not_before_label}.",
                      fields={field: [f"Cannot be before {not_before_label}."]})
    return moment


@transaction.atomic
def check_in(*, by, session: Session, fasted_food_2h: bool, fasted_drink_30m: bool, nasal_medicines_ok: bool,
             ride_home_arranged: bool, checked_in_at: datetime | None = None,
             now: datetime | None = None) -> Session:
    """Check the patient in on the session's day.

    ``checked_in_at`` lets a busy clinic chart the arrival after the fact:
    earlier the same local day, never in the future. Re-checks eligibility (a hard stop, or a finding no clinician has
    overridden for this course, refuses), requires REMS enrolment for
    esketamine (409 ``rems_enrolment_missing``) and a ride home.
    """
    now = now or timezone.now()
    session = _locked(session)
    _require_state(session, SessionStatus.BOOKED, SessionStatus.CONFIRMED, action="checked in")
    if session.location.local_date(now) != session.local_date:
        raise Conflict("A patient can be checked in only on the day of the session.", code="not_today")
    arrived = _moment(checked_in_at, field="checked_in_at", now=now,
                      not_before=session.location.day_bounds(session.local_date)[0],
                      not_before_label="the start of the session's day")
    course, patient = session.course, session.patient
    findings = eligibility.check(course.modality, patient.diagnosis, patient.screening())
    stops = eligibility.hard_stops(findings)
    if stops:
        raise Conflict("The patient is not eligible for this treatment today.", code="not_eligible",
                       extra={"reasons": [{"code": f.code, "message": f.message} for f in stops]})
    new = [f for f in eligibility.needs_override(findings) if f.code not in (course.override_findings or [])]
    if new:
        raise Conflict("Something changed since the course started; a clinician must review it before dosing.",
                       code="override_required",
                       extra={"reasons": [{"code": f.code, "message": f.message} for f in new]})
    if course.modality == Modality.ESKETAMINE_NASAL and not patient.is_rems_enrolled:
        raise Conflict("The patient is not enrolled in the esketamine REMS; enrol before check-in.",
                       code="rems_enrolment_missing")
    if not ride_home_arranged:
        raise Conflict("A ride home is required: the patient may not drive after treatment.",
                       code="ride_home_required")
    session.fasted_food_2h, session.fasted_drink_30m = fasted_food_2h, fasted_drink_30m
    session.nasal_medicines_ok, session.ride_home_arranged = nasal_medicines_ok, ride_home_arranged
    session.checked_in_at, session.checked_in_by = arrived, by
    session.status = SessionStatus.CHECKED_IN
    session.save()
    return session


@transaction.atomic
def record_vitals(*, by, session: Session, kind: str, systolic: int, diastolic: int, heart_rate: int, spo2: int,
                  taken_at: datetime | None = None, now: datetime | None = None) -> VitalSigns:
    """Record blood pressure, heart rate and SpO2; impossible values are a 400 naming the field."""
    now = now or timezone.now()
    _require_clinician(by, "record vital signs")
    session = _locked(session)
    _require_state(session, SessionStatus.CHECKED_IN, SessionStatus.IN_TREATMENT, action="given vital signs")
    values = {"systolic": systolic, "diastolic": diastolic, "heart_rate": heart_rate, "spo2": spo2}
    errors = {name: [f"Must be between {low} and {high}."] for name, (low, high) in VITAL_LIMITS.items()
              if not low <= values[name] <= high}
    if "systolic" not in errors and "diastolic" not in errors and diastolic >= systolic:
        errors["diastolic"] = ["Must be lower than the systolic pressure."]
    if errors:
        raise Invalid("Some vital signs are outside what is physically possible; check for a typing error.",
                      fields=errors)
    if kind not in VitalsKind.values:
        raise Invalid("Unknown kind of vital signs.", fields={"kind": [f"Use one of {', '.join(VitalsKind.values)}."]})
    taken = _moment(taken_at, field="taken_at", now=now, not_before=session.checked_in_at,
                    not_before_label="check-in")
    return VitalSigns.objects.create(session=session, kind=kind, taken_at=taken, recorded_by=by, **values)


def bp_is_high(vitals: VitalSigns, protocol) -> bool:
    return vitals.bp_above(protocol.bp_systolic_max, protocol.bp_diastolic_max)


def _latest_pre_dose(session: Session) -> VitalSigns | None:
    return session.vitals.filter(kind=VitalsKind.PRE_DOSE).order_by("-taken_at", "-id").first()


@transaction.atomic
def acknowledge_high_bp(*, by, session: Session, reason: str, now: datetime | None = None) -> Session:
    """A clinician accepts dosing despite the latest pre-dose blood pressure being above the threshold."""
    now = now or timezone.now()
    _require_clinician(by, "acknowledge a high blood pressure")
    session = _locked(session)
    _require_state(session, SessionStatus.CHECKED_IN, action="acknowledged")
    if not (reason or "").strip():
        raise Invalid("Say why dosing may go ahead.", fields={"reason": ["A reason is required."]})
    latest = _latest_pre_dose(session)
    if latest is None or not bp_is_high(latest, session.course.protocol):
        raise Conflict("There is no high pre-dose blood pressure to acknowledge.", code="nothing_to_acknowledge")
    session.high_bp_acknowledged_at, session.high_bp_acknowledged_by = now, by
    session.high_bp_acknowledgement = reason.strip()
    session.save()
    return session


def _previous_doses_mg(session: Session) -> list[Decimal]:
    given = list(Dose.objects.filter(session__course=session.course).exclude(session=session)
                 .values_list("dose_mg", flat=True))
    recorded = Session.objects.filter(course=session.course, recorded_history=True,
                                      recorded_dose_mg__isnull=False).values_list("recorded_dose_mg", flat=True)
    return given + list(recorded)


def _check_ready_to_dose(session: Session) -> None:
    latest = _latest_pre_dose(session)
    if latest is None:
        raise Conflict("Record pre-dose vital signs before dosing.", code="pre_dose_vitals_missing")
    protocol = session.course.protocol
    acknowledged = session.high_bp_acknowledged_at is not None and session.high_bp_acknowledged_at >= latest.recorded_at
    if bp_is_high(latest, protocol) and not acknowledged:
        raise Conflict(
            f"Blood pressure {latest.systolic}/{latest.diastolic} is above {protocol.bp_systolic_max}/"
            f"{protocol.bp_diastolic_max}: a clinician must acknowledge it (with a reason) before dosing.",
            code="high_bp_not_acknowledged",
        )
    if unacknowledged_item9_alert(session.patient) is not None:
        raise Conflict("PHQ-9 item 9 is above 0: a clinician must assess suicide risk and acknowledge the alert "
                       "before dosing.", code="item9_alert_unacknowledged")


@transaction.atomic
def record_dose(*, by, session: Session, dose_mg: Decimal | None = None, devices: int | None = None,
                lot_number: str = "", weight_kg: Decimal | None = None, mg_per_kg: Decimal | None = None,
                started_at: datetime | None = None, infusion_ended_at: datetime | None = None,
                override_reason: str = "", now: datetime | None = None) -> Dose:
    """Record the dose; the session goes in treatment and observation starts.

    Refused (409) without pre-dose vitals, with an unacknowledged high BP or
    PHQ-9 item-9 alert, or with a dose outside the protocol's rules unless a
    clinician gives ``override_reason`` (``dose_override_required``).
    """
    now = now or timezone.now()
    _require_clinician(by, "record a dose")
    session = _locked(session)
    _require_state(session, SessionStatus.CHECKED_IN, action="dosed")
    _check_ready_to_dose(session)
    protocol = session.course.protocol
    started = _moment(started_at, field="started_at", now=now, not_before=session.checked_in_at,
                      not_before_label="check-in")
    override_reason = (override_reason or "").strip()
    dose = Dose(session=session, started_at=started, recorded_by=by, recorded_at=now)
    if session.course.modality == Modality.ESKETAMINE_NASAL:
        problems = _esketamine_dose(dose, protocol, session, dose_mg=dose_mg, devices=devices,
                                    lot_number=lot_number)
    else:
        problems = _iv_dose(dose, protocol, dose_mg=dose_mg, weight_kg=weight_kg, mg_per_kg=mg_per_kg,
                            infusion_ended_at=infusion_ended_at, now=now)
    if problems and not override_reason:
        raise Conflict("This dose is outside the protocol: " + " ".join(problems) + " A clinician may give it with "
                       "a written reason.", code="dose_override_required", extra={"problems": list(problems)})
    if problems:
        dose.override_reason, dose.override_by = override_reason, by
    dose.save()
    session.status = SessionStatus.IN_TREATMENT
    session.save(update_fields=["status"])
    return dose


def _esketamine_dose(dose: Dose, protocol, session: Session, *, dose_mg, devices, lot_number) -> tuple[str, ...]:
    errors: dict[str, list[str]] = {}
    if dose_mg is None:
        errors["dose_mg"] = ["The dose in mg is required."]
    elif dose_rules.devices_for(Decimal(dose_mg)) is None:
        errors["dose_mg"] = ["An esketamine dose is a whole number of 28 mg devices."]
    elif devices is not None and devices != dose_rules.devices_for(Decimal(dose_mg)):
        errors["devices"] = [f"{dose_mg:g} mg is {dose_rules.devices_for(Decimal(dose_mg))} devices of 28 mg."]
    if not (lot_number or "").strip():
        errors["lot_number"] = ["The lot number is required."]
    if errors:
        raise Invalid("The dose record is incomplete.", fields=errors)
    dose.dose_mg = Decimal(dose_mg)
    dose.devices = dose_rules.devices_for(dose.dose_mg)
    dose.lot_number = lot_number.strip()
    return dose_rules.esketamine_dose_problems(
        dose_mg=dose.dose_mg, first_dose_mg=protocol.first_dose_mg, allowed_doses_mg=protocol.allowed_doses_mg,
        requires_prior_56_for_84=protocol.requires_prior_56_for_84, previous_doses_mg=_previous_doses_mg(session),
    )


def _iv_dose(dose: Dose, protocol, *, dose_mg, weight_kg, mg_per_kg, infusion_ended_at, now) -> tuple[str, ...]:
    errors: dict[str, list[str]] = {}
    if weight_kg is None or not WEIGHT_KG_LIMITS[0] <= Decimal(weight_kg) <= WEIGHT_KG_LIMITS[1]:
        errors["weight_kg"] = [f"Weight is required, {WEIGHT_KG_LIMITS[0]} to {WEIGHT_KG_LIMITS[1]} kg."]
    if mg_per_kg is None or not MG_PER_KG_LIMITS[0] <= Decimal(mg_per_kg) <= MG_PER_KG_LIMITS[1]:
        errors["mg_per_kg"] = [f"mg/kg is required, {MG_PER_KG_LIMITS[0]} to {MG_PER_KG_LIMITS[1]}."]
    if not errors:
        expected = (Decimal(weight_kg) * Decimal(mg_per_kg)).quantize(Decimal("0.1"))
        if dose_mg is not None and abs(Decimal(dose_mg) - expected) > Decimal("0.5"):
            errors["dose_mg"] = [f"{weight_kg:g} kg at {mg_per_kg:g} mg/kg is {expected:g} mg."]
        dose.dose_mg = expected if dose_mg is None else Decimal(dose_mg)
    if infusion_ended_at is not None and (infusion_ended_at <= dose.started_at or infusion_ended_at > now):
        errors["infusion_ended_at"] = ["Must be after the infusion started and not in the future."]
    if errors:
        raise Invalid("The infusion record is incomplete or inconsistent.", fields=errors)
    dose.weight_kg, dose.mg_per_kg = Decimal(weight_kg), Decimal(mg_per_kg)
    dose.infusion_ended_at = infusion_ended_at
    return dose_rules.iv_dose_problems(mg_per_kg=dose.mg_per_kg, protocol_mg_per_kg=protocol.iv_mg_per_kg)


@transaction.atomic
def end_infusion(*, by, session: Session, ended_at: datetime | None = None, now: datetime | None = None) -> Dose:
    """Record when the IV infusion ended; recovery observation counts from here."""
    now = now or timezone.now()
    _require_clinician(by, "record the end of an infusion")
    session = _locked(session)
    _require_state(session, SessionStatus.IN_TREATMENT, action="given an infusion end")
    if session.course.modality != Modality.KETAMINE_IV:
        raise Conflict("Only an IV infusion has an end time.", code="not_an_infusion")
    dose = session.dose
    if dose.infusion_ended_at is not None:
        raise Conflict("The infusion end is already recorded.", code="invalid_state", extra={"status": "ended"})
    dose.infusion_ended_at = _moment(ended_at, field="ended_at", now=now, not_before=dose.started_at,
                                     not_before_label="the infusion start")
    if dose.infusion_ended_at == dose.started_at:
        raise Invalid("The infusion cannot end when it starts.", fields={"ended_at": ["Must be after the start."]})
    dose.save(update_fields=["infusion_ended_at"])
    return dose


@transaction.atomic
def record_assessment(*, by, session: Session, sedation: str, dissociation: str, respiratory: str,
                      adverse_event: bool = False, adverse_event_serious: bool = False,
                      adverse_event_description: str = "", assessed_at: datetime | None = None,
                      now: datetime | None = None) -> Assessment:
    """Record sedation, dissociation, breathing and any adverse event during observation."""
    now = now or timezone.now()
    _require_clinician(by, "record an assessment")
    session = _locked(session)
    _require_state(session, SessionStatus.IN_TREATMENT, action="assessed")
    description = (adverse_event_description or "").strip()
    if adverse_event_serious and not adverse_event:
        adverse_event = True
    if adverse_event and not description:
        raise Invalid("Describe the adverse event.", fields={"adverse_event_description": ["Required for an "
                                                                                          "adverse event."]})
    when = _moment(assessed_at, field="assessed_at", now=now, not_before=session.dose.started_at,
                   not_before_label="dosing")
    return Assessment.objects.create(
        session=session, assessed_at=when, sedation=sedation, dissociation=dissociation, respiratory=respiratory,
        adverse_event=adverse_event, adverse_event_serious=adverse_event_serious,
        adverse_event_description=description, recorded_by=by, recorded_at=now,
    )


def observation_start(session: Session, dose: Dose) -> datetime | None:
    """Esketamine: the first device. IV: the end of the infusion (None while it runs)."""
    if session.course.modality == Modality.KETAMINE_IV:
        return dose.infusion_ended_at
    return dose.started_at


@transaction.atomic
def discharge(*, by, session: Session, resolution_attested: bool, driver: str,
              could_have_left_after_minutes: int | None = None, discharged_at: datetime | None = None,
              now: datetime | None = None) -> Session:
    """Discharge the patient once the protocol's observation time has passed. There is no override.

    Requires discharge vital signs, the clinician's attestation that sedation,
    dissociation and breathing have resolved, who drives the patient home, and
    for esketamine the REMS "could have left after" minutes. Creates the REMS
    form (esketamine) and completes a finished course.
    """
    now = now or timezone.now()
    _require_clinician(by, "discharge a patient")
    session = _locked(session)
    _require_state(session, SessionStatus.IN_TREATMENT, action="discharged")
    dose = session.dose
    protocol = session.course.protocol
    start = observation_start(session, dose)
    if start is None:
        raise Conflict("Record the end of the infusion first: recovery is counted from it.",
                       code="infusion_not_ended")
    ends = start + timedelta(minutes=protocol.observation_minutes)
    when = _moment(discharged_at, field="discharged_at", now=now, not_before=None, not_before_label="")
    if when < ends:
        minutes_left = int((ends - when).total_seconds() // 60) + (1 if (ends - when).total_seconds() % 60 else 0)
        raise Conflict(
            f"Observation is not complete: {protocol.observation_minutes} minutes are required; "
            f"{minutes_left} minute{'s' if minutes_left != 1 else ''} left (until "
            f"{session.location.local(ends):%H:%M}).",
            code="observation_not_complete",
            extra={"observation_ends_at": ends.isoformat(), "minutes_left": minutes_left},
        )
    errors: dict[str, list[str]] = {}
    if not resolution_attested:
        errors["resolution_attested"] = ["Confirm that sedation, dissociation and breathing have resolved."]
    if not (driver or "").strip():
        errors["driver"] = ["Say who drives the patient home."]
    if session.course.modality == Modality.ESKETAMINE_NASAL:
        if could_have_left_after_minutes is None:
            errors["could_have_left_after_minutes"] = ["The REMS form asks this: answer in minutes."]
        elif not 0 <= could_have_left_after_minutes <= COULD_HAVE_LEFT_LIMIT:
            errors["could_have_left_after_minutes"] = [f"Must be 0 to {COULD_HAVE_LEFT_LIMIT} minutes."]
    if errors:
        raise Invalid("Discharge needs a few more answers.", fields=errors)
    if not session.vitals.filter(kind=VitalsKind.DISCHARGE, taken_at__gte=dose.started_at).exists():
        raise Conflict("Record discharge vital signs first.", code="discharge_vitals_missing")
    session.discharged_at, session.discharged_by = when, by
    session.resolution_attested = True
    session.driver = driver.strip()
    session.could_have_left_after_minutes = could_have_left_after_minutes
    session.status = SessionStatus.DISCHARGED
    session.save()
    if session.course.modality == Modality.ESKETAMINE_NASAL:
        rems.refresh_form(session)
    complete_course_if_finished(course=session.course)
    refresh_course_worklist_on_commit(session.course_id)
    return session
