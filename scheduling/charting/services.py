"""A session, step by step: check-in, vitals, dose, assessment, discharge (docs/DOMAIN.md).

Each step is a service with its own state check (409 ``invalid_state``
naming the current state) and its own safety rules. Every step locks the
session row, so two clinicians charting the same session on two screens
cannot interleave a dose and a discharge. Every charted time is kept beside
the moment it was entered, and a late entry needs its reason
(``scheduling.charting.timing``). Discharge and leaving before discharge are
in ``scheduling.charting.ending``.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import CLINICIAN, has_role
from protocols import eligibility
from protocols.models import Modality
from scheduling.charting import dose_stock, dosing, rems, timing
from scheduling.charting.ending import discharge as discharge
from scheduling.charting.ending import leave_before_discharge as leave_before_discharge
from scheduling.charting.guards import locked, require_clinician, require_state
from scheduling.charting.observation import BP_CHECKPOINT, in_checkpoint_window
from scheduling.charting.outcomes import unacknowledged_item9_alert
from scheduling.models import VITAL_LIMITS, Assessment, Dose, Session, SessionStatus, VitalSigns, VitalsKind

# Late vital signs and assessments are still taken into a chart that has ended, so a draft REMS form can be completed.
CHARTABLE_AFTER_DOSE = (SessionStatus.IN_TREATMENT, SessionStatus.DISCHARGED)


def _findings_words(findings) -> list[dict]:
    return [{"code": f.code, "message": f.message} for f in findings]


def _recheck_eligibility(*, by, session: Session, override_reason: str) -> list[str]:
    """Re-check eligibility at check-in; returns the findings a clinician overrides now (recorded by the caller).

    A hard stop refuses (409 ``not_eligible``). A finding that needs an
    override and that no clinician has overridden for this course refuses
    (409 ``override_required``) unless a clinician gives ``override_reason``
    (anyone else: 403 ``override_needs_clinician``). A reason with nothing to
    override is a 400.
    """
    course, patient = session.course, session.patient
    findings = eligibility.check(course.modality, patient.diagnosis, patient.screening())
    stops = eligibility.hard_stops(findings)
    if stops:
        raise Conflict("The patient is not eligible for this treatment today.", code="not_eligible",
                       extra={"reasons": _findings_words(stops)})
    new = [f for f in eligibility.needs_override(findings) if f.code not in (course.override_findings or [])]
    if override_reason and not new:
        raise Invalid("There is nothing to override: nothing changed since the course started.",
                      fields={"override_reason": ["Nothing to override; leave this empty."]})
    if new and not override_reason:
        raise Conflict("Something changed since the course started; a clinician must review it before dosing: "
                       "check in with a clinician's override and a reason.", code="override_required",
                       extra={"reasons": _findings_words(new)})
    if new and not has_role(by, CLINICIAN):
        raise NotAllowed("Only a clinician may override an eligibility finding.", code="override_needs_clinician")
    return [f.code for f in new]


def _record_override_on_course(*, by, session: Session, codes: list[str], reason: str, now: datetime) -> None:
    """Add the findings overridden at check-in to the course (audited by pghistory) and to the session."""
    course = session.course
    course.override_findings = sorted({*(course.override_findings or []), *codes})
    line = f"{session.location.local_date(now):%Y-%m-%d}, at check-in ({', '.join(codes)}): {reason}"
    course.override_reason = f"{course.override_reason}\n{line}" if course.override_reason else line
    course.override_by = by
    course.save(update_fields=["override_findings", "override_reason", "override_by"])
    session.eligibility_override_findings, session.eligibility_override_reason = codes, reason
    session.eligibility_override_by = by


@transaction.atomic
def check_in(*, by, session: Session, fasted_food_2h: bool, fasted_drink_30m: bool, nasal_medicines_ok: bool,
             ride_home_arranged: bool, checked_in_at: datetime | None = None, late_reason: str = "",
             override_reason: str = "", now: datetime | None = None) -> Session:
    """Check the patient in on the session's day.

    ``checked_in_at`` lets a busy clinic chart the arrival after the fact:
    the same local day, no more than 2 hours before the booked start, never
    in the future; more than 15 minutes late needs ``late_reason``.
    Re-checks eligibility (``_recheck_eligibility``: a finding that appeared
    mid-course is overridden here by a clinician with ``override_reason``),
    requires REMS enrolment for esketamine (409 ``rems_enrolment_missing``)
    and a ride home.
    """
    now = now or timezone.now()
    session = locked(session)
    require_state(session, SessionStatus.BOOKED, SessionStatus.CONFIRMED, action="checked in")
    if session.location.local_date(now) != session.local_date:
        raise Conflict("A patient can be checked in only on the day of the session.", code="not_today")
    day_start = session.location.day_bounds(session.local_date)[0]
    earliest = max(day_start, session.start - timing.EARLIEST_ARRIVAL)
    arrived = timing.charted(checked_in_at, field="checked_in_at", now=now, late_reason=late_reason,
                             not_before=earliest, not_before_label=(
                                 "2 hours before the booked start" if earliest > day_start
                                 else "the start of the session's day"))
    override_reason = (override_reason or "").strip()
    overridden = _recheck_eligibility(by=by, session=session, override_reason=override_reason)
    if session.course.modality == Modality.ESKETAMINE_NASAL and not session.patient.is_rems_enrolled:
        raise Conflict("The patient is not enrolled in the esketamine REMS; enrol before check-in.",
                       code="rems_enrolment_missing")
    if not ride_home_arranged:
        raise Conflict("A ride home is required: the patient may not drive after treatment.",
                       code="ride_home_required")
    if overridden:
        _record_override_on_course(by=by, session=session, codes=overridden, reason=override_reason, now=now)
    session.fasted_food_2h, session.fasted_drink_30m = fasted_food_2h, fasted_drink_30m
    session.nasal_medicines_ok, session.ride_home_arranged = nasal_medicines_ok, ride_home_arranged
    session.checked_in_at, session.checked_in_by = arrived.at, by
    session.checked_in_entered_at, session.checked_in_late_reason = arrived.entered_at, arrived.late_reason
    session.status = SessionStatus.CHECKED_IN
    session.save()
    return session


def _dose_of(session: Session) -> Dose | None:
    return Dose.objects.filter(session=session).first()


def _require_chart_if_ended(session: Session, dose: Dose | None) -> None:
    """An ended session takes late entries only into its chart: one without a dose (recorded history) has none."""
    if session.status == SessionStatus.DISCHARGED and dose is None:
        raise Conflict("This session has no chart to add to: no dose was charted in the system.",
                       code="invalid_state", extra={"status": session.status})


def _check_vitals_moment(session: Session, dose: Dose | None, kind: str, taken_at: datetime,
                         timing_reason: str) -> str:
    """Vitals belong to their moment (docs/DOMAIN.md); returns the timing reason kept for the reading."""
    location = session.location
    if kind == VitalsKind.PRE_DOSE:
        if dose is not None and taken_at > dose.started_at:
            raise Invalid("Pre-dose vital signs are taken before the first device.",
                          fields={"taken_at": [f"Must be at or before the first device "
                                               f"({timing.hh_mm(dose.started_at, location)})."]})
        return ""
    if kind in (VitalsKind.POST_DOSE_40, VitalsKind.DISCHARGE) and dose is None:
        raise Invalid("There is no dose yet.", fields={"kind": ["Only after dosing."]})
    if dose is not None and kind != VitalsKind.OTHER and taken_at < dose.started_at:
        raise Invalid("These vital signs are taken after dosing.",
                      fields={"taken_at": [f"Cannot be before the first device "
                                           f"({timing.hh_mm(dose.started_at, location)})."]})
    ended = session.ended_at
    if ended is not None and taken_at > ended:
        raise Invalid("The patient had left by then.",
                      fields={"taken_at": [f"Cannot be after the session ended ({timing.hh_mm(ended, location)})."]})
    if kind == VitalsKind.DISCHARGE and session.discharged_at is not None \
            and session.discharged_at - taken_at > timing.DISCHARGE_VITALS_WITHIN:
        raise Invalid("Discharge vital signs are taken within 15 minutes before discharge.",
                      fields={"taken_at": ["Must be within 15 minutes before the discharge "
                                           f"({timing.hh_mm(session.discharged_at, location)})."]})
    if kind == VitalsKind.POST_DOSE_40:
        probe = VitalSigns(taken_at=taken_at)
        if not in_checkpoint_window(probe, dose):
            if not timing_reason:
                low, high = (int(bound.total_seconds() // 60) for bound in BP_CHECKPOINT)
                raise Invalid(f"The 40-minute reading is taken {low}-{high} minutes after the first device; "
                              "outside that window it needs a reason (and is not the form's reading at 40 "
                              "minutes).", fields={"timing_reason": ["Say why it was taken outside 35-50 minutes."]})
            return timing_reason
    return ""


@transaction.atomic
def record_vitals(*, by, session: Session, kind: str, systolic: int, diastolic: int, heart_rate: int, spo2: int,
                  taken_at: datetime | None = None, late_reason: str = "", timing_reason: str = "",
                  now: datetime | None = None) -> VitalSigns:
    """Record blood pressure, heart rate and SpO2 at their moment; impossible values are a 400 naming the field.

    Pre-dose readings are before the first device; the 40-minute reading is
    35-50 minutes after it (outside, ``timing_reason`` is required and the
    reading does not count as the one at 40 minutes); discharge readings are
    after dosing (and within 15 minutes before a discharge already charted).
    A chart that has ended still takes late readings from before its end, so
    a draft REMS form can be completed.
    """
    now = now or timezone.now()
    require_clinician(by, "record vital signs")
    session = locked(session)
    require_state(session, SessionStatus.CHECKED_IN, *CHARTABLE_AFTER_DOSE, action="given vital signs")
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
    dose = _dose_of(session)
    _require_chart_if_ended(session, dose)
    taken = timing.charted(taken_at, field="taken_at", now=now, late_reason=late_reason,
                           not_before=session.checked_in_at, not_before_label="check-in")
    kept_reason = _check_vitals_moment(session, dose, kind, taken.at, (timing_reason or "").strip())
    reading = VitalSigns.objects.create(session=session, kind=kind, taken_at=taken.at, recorded_by=by,
                                        recorded_at=now, late_reason=taken.late_reason, timing_reason=kept_reason,
                                        **values)
    _after_entry_on_ended_chart(session)
    return reading


def _after_entry_on_ended_chart(session: Session) -> None:
    """A late entry on an ended esketamine chart brings its (unsubmitted) REMS form up to date."""
    if session.status == SessionStatus.DISCHARGED and session.course.modality == Modality.ESKETAMINE_NASAL:
        rems.refresh_form(session)


def bp_is_high(vitals: VitalSigns, protocol) -> bool:
    return vitals.bp_above(protocol.bp_systolic_max, protocol.bp_diastolic_max)


def _latest_pre_dose(session: Session, before: datetime | None = None) -> VitalSigns | None:
    readings = session.vitals.filter(kind=VitalsKind.PRE_DOSE)
    if before is not None:
        readings = readings.filter(taken_at__lte=before)
    return readings.order_by("-taken_at", "-id").first()


@transaction.atomic
def acknowledge_high_bp(*, by, session: Session, reason: str, now: datetime | None = None) -> Session:
    """A clinician accepts dosing despite the latest pre-dose blood pressure being above the threshold."""
    now = now or timezone.now()
    require_clinician(by, "acknowledge a high blood pressure")
    session = locked(session)
    require_state(session, SessionStatus.CHECKED_IN, action="acknowledged")
    if not (reason or "").strip():
        raise Invalid("Say why dosing may go ahead.", fields={"reason": ["A reason is required."]})
    latest = _latest_pre_dose(session)
    if latest is None or not bp_is_high(latest, session.course.protocol):
        raise Conflict("There is no high pre-dose blood pressure to acknowledge.", code="nothing_to_acknowledge")
    session.high_bp_acknowledged_at, session.high_bp_acknowledged_by = now, by
    session.high_bp_acknowledgement = reason.strip()
    session.save()
    return session


def _check_ready_to_dose(session: Session, first_device: datetime) -> None:
    """Pre-dose vitals taken before the first device, any high BP acknowledged, no open item-9 alert."""
    latest = _latest_pre_dose(session, before=first_device)
    if latest is None:
        raise Conflict("Record pre-dose vital signs (taken before the first device) before dosing.",
                       code="pre_dose_vitals_missing")
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
def record_dose(*, by, session: Session, dose_mg=None, devices: int | None = None, lot=None, witness=None,
                weight_kg=None, mg_per_kg=None, started_at: datetime | None = None,
                infusion_ended_at: datetime | None = None, device_times: list[datetime] | None = None,
                rest_reason: str = "", prescriber_on_site=None, late_reason: str = "", override_reason: str = "",
                now: datetime | None = None) -> Dose:
    """Record the dose, drawn from a lot of the location's stock; the session goes in treatment.

    The dose draws from ``lot`` (``dose_stock.draw``): esketamine devices, or
    IV mg with the rest of an opened vial wasted before ``witness``; an
    expired, other-location, short or wrong-product lot is refused (409 with
    the stock's code, naming ``lot``). Esketamine: mg, the prescriber on site (400 ``prescriber_on_site``
    without a clinician marked as a prescriber), and each device's time
    (``device_times``; or the first now and the rest by ``record_device``):
    less than 5 minutes between two devices needs ``rest_reason``. IV:
    weight, mg/kg, start (and end). Refused (409) without pre-dose vitals
    taken before the first device, with an unacknowledged high BP or PHQ-9
    item-9 alert, or with a dose outside the protocol's rules unless a
    clinician gives ``override_reason`` (``dose_override_required``).
    """
    now = now or timezone.now()
    require_clinician(by, "record a dose")
    session = locked(session)
    require_state(session, SessionStatus.CHECKED_IN, action="dosed")
    esketamine = session.course.modality == Modality.ESKETAMINE_NASAL
    if device_times and not esketamine:
        raise Invalid("Only esketamine is given in devices.", fields={"device_times": ["Only for esketamine."]})
    times = dosing.charted_device_times(device_times, started_at, now=now, late_reason=late_reason,
                                        not_before=session.checked_in_at)
    _check_ready_to_dose(session, times[0].at)
    protocol = session.course.protocol
    override_reason, rest_reason = (override_reason or "").strip(), (rest_reason or "").strip()
    dose = Dose(session=session, started_at=times[0].at, recorded_by=by, recorded_at=now,
                late_reason=times[0].late_reason)
    if esketamine:
        dose.prescriber_on_site = dosing.prescriber_on_site(by, prescriber_on_site)
        problems = dosing.esketamine_dose(dose, protocol, dose_mg=dose_mg, devices=devices, lot=lot,
                                          device_count_given=len(times),
                                          previous_doses_mg=dosing.previous_doses_mg(session))
        if dosing.rest_problems([t.at for t in times]) and not rest_reason:
            raise Invalid("Less than 5 minutes' rest between two devices needs a reason.",
                          fields={"rest_reason": dosing.rest_problems([t.at for t in times])})
    else:
        if prescriber_on_site is not None:
            dose.prescriber_on_site = dosing.prescriber_on_site(by, prescriber_on_site)
        problems = dosing.iv_dose(dose, protocol, dose_mg=dose_mg, weight_kg=weight_kg, mg_per_kg=mg_per_kg, lot=lot)
        if infusion_ended_at is not None:
            if infusion_ended_at <= dose.started_at:
                raise Invalid("The infusion ends after it starts.",
                              fields={"infusion_ended_at": ["Must be after the infusion started."]})
            ended = timing.charted(infusion_ended_at, field="infusion_ended_at", now=now, late_reason=late_reason)
            dose.infusion_ended_at, dose.infusion_end_entered_at = ended.at, ended.entered_at
            dose.infusion_end_late_reason = ended.late_reason
    if problems and not override_reason:
        raise Conflict("This dose is outside the protocol: " + " ".join(problems) + " A clinician may give it with "
                       "a written reason.", code="dose_override_required", extra={"problems": list(problems)})
    if problems:
        dose.override_reason, dose.override_by = override_reason, by
    dose.save()
    dose_stock.draw(dose, session, by=by, lot=lot, witness=witness, now=now)
    if esketamine:
        rested = rest_reason if dosing.rest_problems([t.at for t in times]) else ""
        for row in dosing.device_rows(dose, times, by=by, rest_reason=""):
            row.rest_reason = rested if row.number > 1 else ""
            row.save()
    session.status = SessionStatus.IN_TREATMENT
    session.save(update_fields=["status"])
    return dose


@transaction.atomic
def record_device(*, by, session: Session, given_at: datetime | None = None, rest_reason: str = "",
                  late_reason: str = "", now: datetime | None = None):
    """Record the next esketamine device of the dose: its time, 5 minutes' rest after the previous or a reason."""
    now = now or timezone.now()
    require_clinician(by, "record a device")
    session = locked(session)
    require_state(session, SessionStatus.IN_TREATMENT, action="given another device")
    dose = _dose_of(session)
    if session.course.modality != Modality.ESKETAMINE_NASAL or dose is None:
        raise Conflict("Only an esketamine dose is given in devices.", code="not_a_nasal_dose")
    given = list(dose.devices_given.order_by("number"))
    if len(given) >= (dose.devices or 0):
        raise Conflict(f"Every device of this dose ({dose.devices}) is recorded.", code="devices_complete")
    previous = given[-1].given_at if given else dose.started_at
    moment = timing.charted(given_at, field="given_at", now=now, late_reason=late_reason, not_before=previous,
                            not_before_label="the previous device")
    rest_reason = (rest_reason or "").strip()
    short = dosing.rest_problems([previous, moment.at])
    if short and not rest_reason:
        raise Invalid("Less than 5 minutes' rest after the previous device needs a reason.",
                      fields={"rest_reason": short})
    row = dosing.device_rows(dose, [moment], by=by, rest_reason=rest_reason if short else "",
                             first_number=len(given) + 1)[0]
    row.save()
    return row


@transaction.atomic
def end_infusion(*, by, session: Session, ended_at: datetime | None = None, late_reason: str = "",
                 now: datetime | None = None) -> Dose:
    """Record when the IV infusion ended; recovery observation counts from here (and from when it was entered)."""
    now = now or timezone.now()
    require_clinician(by, "record the end of an infusion")
    session = locked(session)
    require_state(session, SessionStatus.IN_TREATMENT, action="given an infusion end")
    if session.course.modality != Modality.KETAMINE_IV:
        raise Conflict("Only an IV infusion has an end time.", code="not_an_infusion")
    dose = session.dose
    if dose.infusion_ended_at is not None:
        raise Conflict("The infusion end is already recorded.", code="invalid_state", extra={"status": "ended"})
    ended = timing.charted(ended_at, field="ended_at", now=now, late_reason=late_reason, not_before=dose.started_at,
                           not_before_label="the infusion start")
    if ended.at == dose.started_at:
        raise Invalid("The infusion cannot end when it starts.", fields={"ended_at": ["Must be after the start."]})
    dose.infusion_ended_at, dose.infusion_end_entered_at = ended.at, ended.entered_at
    dose.infusion_end_late_reason = ended.late_reason
    dose.save(update_fields=["infusion_ended_at", "infusion_end_entered_at", "infusion_end_late_reason"])
    return dose


@transaction.atomic
def record_assessment(*, by, session: Session, sedation: str, dissociation: str, respiratory: str,
                      adverse_event: bool = False, adverse_event_serious: bool = False,
                      adverse_event_description: str = "", assessed_at: datetime | None = None,
                      late_reason: str = "", now: datetime | None = None) -> Assessment:
    """Record sedation, dissociation, breathing and any adverse event during observation (or late, once ended)."""
    now = now or timezone.now()
    require_clinician(by, "record an assessment")
    session = locked(session)
    require_state(session, *CHARTABLE_AFTER_DOSE, action="assessed")
    _require_chart_if_ended(session, _dose_of(session))
    description = (adverse_event_description or "").strip()
    if adverse_event_serious and not adverse_event:
        adverse_event = True
    if adverse_event and not description:
        raise Invalid("Describe the adverse event.", fields={"adverse_event_description": ["Required for an "
                                                                                          "adverse event."]})
    when = timing.charted(assessed_at, field="assessed_at", now=now, late_reason=late_reason,
                          not_before=session.dose.started_at, not_before_label="dosing")
    if session.ended_at is not None and when.at > session.ended_at:
        raise Invalid("The patient had left by then.",
                      fields={"assessed_at": ["Cannot be after the session ended."]})
    assessment = Assessment.objects.create(
        session=session, assessed_at=when.at, sedation=sedation, dissociation=dissociation, respiratory=respiratory,
        adverse_event=adverse_event, adverse_event_serious=adverse_event_serious,
        adverse_event_description=description, recorded_by=by, recorded_at=now, late_reason=when.late_reason,
    )
    _after_entry_on_ended_chart(session)
    return assessment
