"""The dose's own rules: esketamine devices and their times, the prescriber on site, the IV infusion.

Called by ``services.record_dose`` and ``services.record_device`` inside their
transaction; they raise ``Invalid`` naming the field, or return the problems
a clinician may override with a reason.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from clinic.errors import Invalid
from clinic.roles import is_prescriber
from protocols import dose_rules
from scheduling.charting import timing
from scheduling.models import DeviceGiven, Dose, Session

# IV dosing limits a typing error cannot pass.
WEIGHT_KG_LIMITS = (Decimal("25"), Decimal("350"))
MG_PER_KG_LIMITS = (Decimal("0.05"), Decimal("2.00"))


def prescriber_on_site(by, named):
    """The prescriber the dose names: ``named``, or the clinician dosing when they are a prescriber.

    400 naming ``prescriber_on_site`` when no one is named who is a clinician
    marked as a prescriber (REMS, 31 Dec 2024: a prescriber on site).
    """
    chosen = named if named is not None else (by if is_prescriber(by) else None)
    if chosen is None:
        raise Invalid("An esketamine dose names the prescriber on site.",
                      fields={"prescriber_on_site": ["Choose the prescriber on site."]})
    if not is_prescriber(chosen):
        raise Invalid("The prescriber on site must be a clinician marked as a prescriber.",
                      fields={"prescriber_on_site": ["Not a prescriber: choose a clinician marked as one."]})
    return chosen


def rest_problems(times: list[datetime]) -> list[str]:
    """The gaps of less than 5 minutes between consecutive devices, in words; 400 if out of order."""
    problems = []
    for number, (before, after) in enumerate(zip(times, times[1:], strict=False), start=2):
        if after < before:
            raise Invalid("Devices are given one after another.",
                          fields={"device_times": [f"Device {number} cannot be before device {number - 1}."]})
        if after - before < timing.DEVICE_REST:
            minutes = int((after - before).total_seconds() // 60)
            problems.append(f"Device {number} came {minutes} min after device {number - 1} (5 minutes' rest).")
    return problems


def device_rows(dose: Dose, times: list[timing.Charted], *, by, rest_reason: str, first_number: int = 1) -> list:
    return [DeviceGiven(dose=dose, number=first_number + index, given_at=moment.at, entered_at=moment.entered_at,
                        late_reason=moment.late_reason, rest_reason=rest_reason, recorded_by=by)
            for index, moment in enumerate(times)]


def esketamine_dose(dose: Dose, protocol, *, dose_mg, devices, lot, device_count_given: int,
                    previous_doses_mg: list[Decimal]) -> tuple[str, ...]:
    """Fill the esketamine fields of ``dose``; returns the protocol problems a clinician may override."""
    errors: dict[str, list[str]] = {}
    if dose_mg is None:
        errors["dose_mg"] = ["The dose in mg is required."]
    elif dose_rules.devices_for(Decimal(dose_mg)) is None:
        errors["dose_mg"] = ["An esketamine dose is a whole number of 28 mg devices."]
    elif devices is not None and devices != dose_rules.devices_for(Decimal(dose_mg)):
        errors["devices"] = [f"{dose_mg:g} mg is {dose_rules.devices_for(Decimal(dose_mg))} devices of 28 mg."]
    elif device_count_given > dose_rules.devices_for(Decimal(dose_mg)):
        errors["device_times"] = [f"{dose_mg:g} mg is {dose_rules.devices_for(Decimal(dose_mg))} devices."]
    if lot is None:
        errors["lot"] = ["Choose the lot the devices come from."]
    if errors:
        raise Invalid("The dose record is incomplete.", fields=errors)
    dose.dose_mg = Decimal(dose_mg)
    dose.devices = dose_rules.devices_for(dose.dose_mg)
    dose.lot_number = lot.lot_number
    return dose_rules.esketamine_dose_problems(
        dose_mg=dose.dose_mg, first_dose_mg=protocol.first_dose_mg, allowed_doses_mg=protocol.allowed_doses_mg,
        requires_prior_56_for_84=protocol.requires_prior_56_for_84, previous_doses_mg=previous_doses_mg,
    )


def iv_dose(dose: Dose, protocol, *, dose_mg, weight_kg, mg_per_kg, lot) -> tuple[str, ...]:
    """Fill the IV fields of ``dose`` (weight-based); returns the protocol problems a clinician may override."""
    errors: dict[str, list[str]] = {}
    if lot is None:
        errors["lot"] = ["Choose the vial lot the ketamine is drawn from."]
    if weight_kg is None or not WEIGHT_KG_LIMITS[0] <= Decimal(weight_kg) <= WEIGHT_KG_LIMITS[1]:
        errors["weight_kg"] = [f"Weight is required, {WEIGHT_KG_LIMITS[0]} to {WEIGHT_KG_LIMITS[1]} kg."]
    if mg_per_kg is None or not MG_PER_KG_LIMITS[0] <= Decimal(mg_per_kg) <= MG_PER_KG_LIMITS[1]:
        errors["mg_per_kg"] = [f"mg/kg is required, {MG_PER_KG_LIMITS[0]} to {MG_PER_KG_LIMITS[1]}."]
    if not errors:
        expected = (Decimal(weight_kg) * Decimal(mg_per_kg)).quantize(Decimal("0.1"))
        if dose_mg is not None and abs(Decimal(dose_mg) - expected) > Decimal("0.5"):
            errors["dose_mg"] = [f"{weight_kg:g} kg at {mg_per_kg:g} mg/kg is {expected:g} mg."]
        dose.dose_mg = expected if dose_mg is None else Decimal(dose_mg)
    if errors:
        raise Invalid("The infusion record is incomplete or inconsistent.", fields=errors)
    dose.weight_kg, dose.mg_per_kg = Decimal(weight_kg), Decimal(mg_per_kg)
    dose.lot_number = lot.lot_number
    return dose_rules.iv_dose_problems(mg_per_kg=dose.mg_per_kg, protocol_mg_per_kg=protocol.iv_mg_per_kg)


def previous_doses_mg(session: Session) -> list[Decimal]:
    given = list(Dose.objects.filter(session__course=session.course).exclude(session=session)
                 .values_list("dose_mg", flat=True))
    recorded = Session.objects.filter(course=session.course, recorded_history=True,
                                      recorded_dose_mg__isnull=False).values_list("recorded_dose_mg", flat=True)
    return given + list(recorded)


def charted_device_times(device_times, started_at, *, now, late_reason, not_before) -> list[timing.Charted]:
    """Each device's charted time; the first device is ``started_at`` (or the first of ``device_times``)."""
    if device_times:
        if started_at is not None and started_at != device_times[0]:
            raise Invalid("The first device is the start of the dose.",
                          fields={"started_at": ["Must be the first device's time, or left out."]})
        raw = list(device_times)
    else:
        raw = [started_at]
    return [timing.charted(value, field="device_times" if device_times else "started_at", now=now,
                           late_reason=late_reason, not_before=not_before, not_before_label="check-in")
            for value in raw]
