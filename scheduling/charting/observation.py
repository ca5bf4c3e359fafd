"""Live observation state of sessions under way: timers, the 40-minute BP checkpoint, alerts.

Computed from loaded rows with no queries of its own, so the board can show
every chair's state from a fixed number of queries and refresh it often.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from patients.models import OutcomeMeasure
from protocols.models import Modality
from scheduling.charting.timing import wait_ends_at
from scheduling.models import Dose, Session, SessionStatus, VitalSigns, VitalsKind

# Blood pressure peaks near 40 minutes after the first device: check it between 35 and 50.
BP_CHECKPOINT = (timedelta(minutes=35), timedelta(minutes=50))


def in_checkpoint_window(reading: VitalSigns, dose: Dose | None) -> bool:
    """True for a reading taken 35-50 minutes after the first device (infusion start): the "at 40 minutes" BP."""
    if dose is None:
        return False
    since = reading.taken_at - dose.started_at
    return BP_CHECKPOINT[0] <= since <= BP_CHECKPOINT[1]


def observation_ends(session: Session, dose: Dose) -> datetime | None:
    """When observation ends, counted in real time (``timing.wait_ends_at``); None while an infusion runs.

    Esketamine counts from the first device and the moment the dose was
    entered; IV from the infusion's end and the moment that was entered.
    """
    minutes = session.course.protocol.observation_minutes
    if session.course.modality == Modality.KETAMINE_IV:
        if dose.infusion_ended_at is None:
            return None
        return wait_ends_at(counted_from=dose.infusion_ended_at,
                            entered_at=dose.infusion_end_entered_at or dose.recorded_at, minutes=minutes)
    return wait_ends_at(counted_from=dose.started_at, entered_at=dose.recorded_at, minutes=minutes)


@dataclass(frozen=True)
class ObservationState:
    stage: str  # waiting | dosed | infusing | observing | ready_to_discharge | discharged | left | none
    treatment_started_at: datetime | None = None
    minutes_since_start: int | None = None
    observation_ends_at: datetime | None = None
    minutes_left: int | None = None
    bp_checkpoint: str | None = None  # upcoming | due | done | missed
    alerts: list[str] = field(default_factory=list)

    @property
    def ready_to_discharge(self) -> bool:
        return self.stage == "ready_to_discharge"

    def as_dict(self) -> dict:
        return {
            "stage": self.stage,
            "treatment_started_at": self.treatment_started_at,
            "minutes_since_start": self.minutes_since_start,
            "observation_ends_at": self.observation_ends_at,
            "minutes_left": self.minutes_left,
            "bp_checkpoint": self.bp_checkpoint,
            "alerts": self.alerts,
            "ready_to_discharge": self.ready_to_discharge,
        }


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def observation_state(session: Session, *, dose: Dose | None, vitals: list[VitalSigns], item9_alert: bool,
                      now: datetime | None = None) -> ObservationState:
    """The state of one session at ``now`` from its dose, vitals and the patient's item-9 alert."""
    now = now or timezone.now()
    protocol = session.course.protocol
    alerts = []
    latest = vitals[-1] if vitals else None
    if latest is not None and latest.bp_above(protocol.bp_systolic_max, protocol.bp_diastolic_max):
        alerts.append("high_bp")
    if latest is not None and latest.spo2 < protocol.spo2_min:
        alerts.append("low_spo2")
    if item9_alert:
        alerts.append("item9")
    if session.status == SessionStatus.DISCHARGED:
        return ObservationState(stage="left" if session.left_at else "discharged", alerts=alerts)
    if session.status != SessionStatus.IN_TREATMENT or dose is None:
        stage = "waiting" if session.status == SessionStatus.CHECKED_IN else "none"
        return ObservationState(stage=stage, alerts=alerts)
    started = dose.started_at
    since = now - started
    # Only a reading inside the window is the checkpoint; one outside it is charted, with its reason, but not this.
    checkpoint_taken = any(v.kind == VitalsKind.POST_DOSE_40 and in_checkpoint_window(v, dose) for v in vitals)
    if checkpoint_taken:
        checkpoint = "done"
    elif since < BP_CHECKPOINT[0]:
        checkpoint = "upcoming"
    elif since <= BP_CHECKPOINT[1]:
        checkpoint = "due"
    else:
        checkpoint = "missed"
    if session.course.modality == Modality.KETAMINE_IV and dose.infusion_ended_at is None:
        return ObservationState(stage="infusing", treatment_started_at=started, minutes_since_start=_minutes(since),
                                bp_checkpoint=checkpoint, alerts=alerts)
    ends = observation_ends(session, dose)
    left = max(0, -(-int((ends - now).total_seconds()) // 60))
    return ObservationState(
        stage="ready_to_discharge" if now >= ends else "observing",
        treatment_started_at=started, minutes_since_start=_minutes(since), observation_ends_at=ends,
        minutes_left=left, bp_checkpoint=checkpoint, alerts=alerts,
    )


def observation_states(sessions: Iterable[Session], now: datetime | None = None) -> dict[int, ObservationState]:
    """States for many sessions: three queries (doses, vitals, item-9 alerts), whatever their number."""
    sessions = list(sessions)
    ids = [session.pk for session in sessions]
    doses = {dose.session_id: dose for dose in Dose.objects.filter(session_id__in=ids)}
    vitals: dict[int, list[VitalSigns]] = defaultdict(list)
    for reading in VitalSigns.objects.filter(session_id__in=ids).order_by("taken_at", "id"):
        vitals[reading.session_id].append(reading)
    alerted = set(OutcomeMeasure.objects.open_item9_alerts()
                  .filter(patient_id__in={session.patient_id for session in sessions})
                  .values_list("patient_id", flat=True))
    return {
        session.pk: observation_state(session, dose=doses.get(session.pk), vitals=vitals[session.pk],
                                      item9_alert=session.patient_id in alerted, now=now)
        for session in sessions
    }
