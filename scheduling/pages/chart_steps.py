"""The chart page's steps: each reads its posted fields and calls the one workflow service for that step.

``STEPS`` maps a step's name to the roles that may post it, its handler and the
chart section its result and refusals belong to (scheduling/pages/chart.py).
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils import timezone

from clinic.errors import Invalid
from clinic.roles import ALL_ROLES, CLINICIAN, FRONT_DESK
from patients import measures
from patients.models import OutcomeMeasure
from protocols.models import Modality
from scheduling.charting import dose_stock, outcomes
from scheduling.charting import services as charting
from scheduling.models import Lot, Respiratory, Session, Severity, VitalsKind
from scheduling.pages import local_instant

PHQ9 = measures.INSTRUMENTS[measures.PHQ9]
CHECKLIST = (
    ("fasted_food_2h", "No food for 2 hours before"),
    ("fasted_drink_30m", "No drink for 30 minutes before"),
    ("nasal_medicines_ok", "Nasal steroid or decongestant at least 1 hour before (or none taken)"),
    ("ride_home_arranged", "Ride home arranged (the patient may not drive)"),
)
TRUE_WORDS = ("on", "true", "1", "yes")
# The dose form offers a time for each device after the first (84 mg is 3 devices).
LATER_DEVICES = (2, 3)


class Reader:
    """Reads a posted form, gathering every field problem so one refusal names them all."""

    def __init__(self, data, session: Session):
        self.data, self.session = data, session
        self.errors: dict[str, list[str]] = {}

    def text(self, name: str) -> str:
        return (self.data.get(name) or "").strip()

    def flag(self, name: str) -> bool:
        return self.text(name).lower() in TRUE_WORDS

    def integer(self, name: str, *, required: bool = True) -> int | None:
        return self._number(name, int, "Enter a whole number.", required=required)

    def decimal(self, name: str, *, required: bool = True) -> Decimal | None:
        return self._number(name, Decimal, "Enter a number.", required=required)

    def _number(self, name: str, parse, message: str, *, required: bool):
        """``parse`` the field, noting "Required." or ``message`` against it when it cannot be read."""
        value = self.text(name)
        if not value:
            if required:
                self.errors[name] = ["Required."]
            return None
        try:
            return parse(value)
        except (ValueError, InvalidOperation):
            self.errors[name] = [message]
            return None

    def moment(self, name: str) -> datetime | None:
        """An optional time: ``HH:MM`` on the session's day, or ``YYYY-MM-DDTHH:MM``, at the session's location."""
        value = self.text(name)
        if not value:
            return None
        location = self.session.location
        try:
            if "T" in value or "-" in value:
                return local_instant(value, location, name)
            return location.at(self.session.local_date, time.fromisoformat(value))
        except ValueError:
            self.errors[name] = ["Use the format HH:MM."]
        except Invalid as error:
            self.errors.update(error.fields)
        return None

    def prescriber(self, name: str):
        """A chosen user by id, or None when nothing is chosen (the service says what it needs)."""
        value = self.text(name)
        if not value:
            return None
        found = get_user_model().objects.filter(pk=value).first() if value.isdigit() else None
        if found is None:
            self.errors[name] = ["Choose the prescriber on site from the list."]
        return found

    def lot(self, name: str):
        """A chosen stock lot by id, or None when nothing is chosen (the service says what it needs)."""
        value = self.text(name)
        if not value:
            return None
        whole = value.isascii() and value.isdigit() and len(value) < 19
        found = Lot.objects.select_related("product").filter(pk=value).first() if whole else None
        if found is None:
            self.errors[name] = ["Choose a lot from the list."]
        return found

    def check(self) -> None:
        if self.errors:
            raise Invalid("Some answers need another look.", fields=self.errors)


# --- the steps: each reads its fields and calls one service -------------------------------------------


def session_now():
    return timezone.now()


def _check_in(request, session: Session) -> str:
    read = Reader(request.POST, session)
    arrived = read.moment("checked_in_at")
    read.check()
    charting.check_in(by=request.user, session=session, checked_in_at=arrived, late_reason=read.text("late_reason"),
                      override_reason=read.text("override_reason"),
                      **{name: read.flag(name) for name, _ in CHECKLIST})
    return "Checked in."


def _vitals(request, session: Session) -> str:
    read = Reader(request.POST, session)
    values = {name: read.integer(name) for name in ("systolic", "diastolic", "heart_rate", "spo2")}
    taken_at = read.moment("taken_at")
    read.check()
    kind = read.text("kind")
    reading = charting.record_vitals(by=request.user, session=session, kind=kind, taken_at=taken_at,
                                     late_reason=read.text("late_reason"), timing_reason=read.text("timing_reason"),
                                     **values)
    return f"Recorded {reading.get_kind_display().lower()} vital signs: BP {reading.systolic}/{reading.diastolic}."


def _acknowledge_bp(request, session: Session) -> str:
    charting.acknowledge_high_bp(by=request.user, session=session, reason=request.POST.get("reason", ""))
    return "High blood pressure acknowledged: dosing may go ahead."


def _measure(request, session: Session) -> str:
    read = Reader(request.POST, session)
    items = [read.integer(f"item{number}", required=False) for number in range(1, PHQ9.item_count + 1)]
    taken_at = read.moment("taken_at")
    read.check()
    if any(item is None for item in items):
        unanswered = ", ".join(str(number) for number, item in enumerate(items, start=1) if item is None)
        raise Invalid(f"Answer every item: {unanswered} left.", fields={"items": [f"Unanswered: {unanswered}."]})
    measure = outcomes.record_measure(by=request.user, patient=session.patient, instrument=measures.PHQ9,
                                      items=items, taken_at=taken_at, session=session)
    words = f"PHQ-9 recorded: {measure.total} ({measures.BAND_LABELS[measure.band].lower()})."
    if measure.item9_positive:
        words += " Item 9 is above 0: a clinician must assess suicide risk before dosing."
    return words


def _acknowledge_item9(request, session: Session) -> str:
    measure = get_object_or_404(OutcomeMeasure, pk=request.POST.get("measure") or 0, patient=session.patient)
    outcomes.acknowledge_item9_alert(by=request.user, measure=measure, note=request.POST.get("note", ""))
    return "Item-9 alert acknowledged."


def _dose(request, session: Session) -> str:
    read = Reader(request.POST, session)
    started_at = read.moment("started_at")
    fields = {"lot": read.lot("lot")}
    if session.course.modality == Modality.ESKETAMINE_NASAL:
        fields |= {"dose_mg": read.decimal("dose_mg"),
                  "prescriber_on_site": read.prescriber("prescriber_on_site"),
                  "rest_reason": read.text("rest_reason")}
        later = [read.moment(f"device_{number}_at") for number in LATER_DEVICES]
        if any(later):
            fields["device_times"] = [started_at or session_now(), *[moment for moment in later if moment]]
            started_at = None
    else:
        fields |= {"weight_kg": read.decimal("weight_kg"), "mg_per_kg": read.decimal("mg_per_kg"),
                   "infusion_ended_at": read.moment("infusion_ended_at")}
    read.check()
    if session.course.modality != Modality.ESKETAMINE_NASAL:
        # The witness's password is read here and checked at once; it goes no further than ``authenticate``.
        fields["witness"] = dose_stock.confirm_witness(request, by=request.user,
                                                       username=read.text("witness_username"),
                                                       password=request.POST.get("witness_password", ""))
    dose = charting.record_dose(by=request.user, session=session, started_at=started_at,
                                late_reason=read.text("late_reason"),
                                override_reason=read.text("override_reason"), **fields)
    return f"Dose recorded: {dose.dose_mg:g} mg. Observation has started."


def _infusion_end(request, session: Session) -> str:
    read = Reader(request.POST, session)
    ended_at = read.moment("ended_at")
    read.check()
    charting.end_infusion(by=request.user, session=session, ended_at=ended_at, late_reason=read.text("late_reason"))
    return "Infusion end recorded: recovery is counted from it."


def _assessment(request, session: Session) -> str:
    read = Reader(request.POST, session)
    assessed_at = read.moment("assessed_at")
    choices = {"sedation": Severity.values, "dissociation": Severity.values, "respiratory": Respiratory.values}
    answers = {}
    for name, allowed in choices.items():
        answers[name] = read.text(name)
        if answers[name] not in allowed:
            read.errors[name] = ["Choose one."]
    read.check()
    charting.record_assessment(by=request.user, session=session, assessed_at=assessed_at,
                               late_reason=read.text("late_reason"),
                               adverse_event=read.flag("adverse_event"),
                               adverse_event_serious=read.flag("adverse_event_serious"),
                               adverse_event_description=read.text("adverse_event_description"), **answers)
    return "Assessment recorded."


def _discharge(request, session: Session) -> str:
    read = Reader(request.POST, session)
    discharged_at = read.moment("discharged_at")
    could_have_left = read.integer("could_have_left_after_minutes", required=False)
    read.check()
    charting.discharge(by=request.user, session=session, resolution_attested=read.flag("resolution_attested"),
                       driver=read.text("driver"), could_have_left_after_minutes=could_have_left,
                       discharged_at=discharged_at, late_reason=read.text("late_reason"))
    return "Discharged."


def _device(request, session: Session) -> str:
    read = Reader(request.POST, session)
    given_at = read.moment("given_at")
    read.check()
    device = charting.record_device(by=request.user, session=session, given_at=given_at,
                                    rest_reason=read.text("rest_reason"), late_reason=read.text("late_reason"))
    return f"Device {device.number} recorded."


def _leave(request, session: Session) -> str:
    read = Reader(request.POST, session)
    left_at = read.moment("left_at")
    read.check()
    charting.leave_before_discharge(by=request.user, session=session, kind=read.text("kind"),
                                    reason=read.text("reason"), left_with=read.text("left_with"), left_at=left_at,
                                    late_reason=read.text("late_reason"))
    return "Recorded: the patient left before discharge."


# step -> (roles that may post it, handler, the section its result and refusals belong to)
STEPS = {
    "check-in": (ALL_ROLES, _check_in, "check-in"),
    "vitals": ((CLINICIAN,), _vitals, None),  # the section follows the kind of reading
    "acknowledge-bp": ((CLINICIAN,), _acknowledge_bp, "pre-dose"),
    "measure": ((CLINICIAN, FRONT_DESK), _measure, "measure"),
    "acknowledge-item9": ((CLINICIAN,), _acknowledge_item9, "measure"),
    "dose": ((CLINICIAN,), _dose, "dose"),
    "infusion-end": ((CLINICIAN,), _infusion_end, "dose"),
    "assessment": ((CLINICIAN,), _assessment, "assessment"),
    "discharge": ((CLINICIAN,), _discharge, "discharge"),
    "device": ((CLINICIAN,), _device, "dose"),
    "leave": ((CLINICIAN,), _leave, "discharge"),
}


def section_of(step: str, data) -> str:
    section = STEPS[step][2]
    if section is not None:
        return section
    return {VitalsKind.PRE_DOSE: "pre-dose", VitalsKind.DISCHARGE: "discharge"}.get(data.get("kind"), "observation")


