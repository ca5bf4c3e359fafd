"""Whether the demo loaded earlier still agrees with the clock, and removing it when it does not.

The demo is laid out against the moment it was loaded: visits before it given, visits
after it booked. A database kept from an earlier `make run` (``.pgdata/``) holds a demo
laid out against an earlier moment: visits still "booked" whose time has passed, patients
"in treatment" since yesterday. Such a demo is removed and loaded again; one that still
agrees with the clock is kept as it is (with whatever was done in it).

Only the demo's own patients (MRN ``DEMO…``) and what hangs on them are removed; sites,
chairs and staff accounts stay, and so do patients someone added.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from clinic.models import OutboxMessage
from patients.models import OutcomeMeasure, Patient, PatientAccess
from protocols.models import TreatmentCourse
from scheduling.demo.authorisations import remove_demo_authorisations
from scheduling.demo.patients import DEMO_NOTE
from scheduling.demo.stock import remove_demo_stock
from scheduling.models import (
    UPCOMING_STATUSES,
    Assessment,
    DeviceGiven,
    Dose,
    RemsForm,
    Session,
    SessionMeasure,
    SessionStatus,
    TextMessage,
    VitalSigns,
    WorkItem,
)

DEMO_MRN_PREFIX = "DEMO"


def demo_patients():
    return Patient.objects.filter(mrn__startswith=DEMO_MRN_PREFIX)


def demo_is_loaded() -> bool:
    return demo_patients().exists()


def demo_is_stale(now: datetime) -> bool:
    """True when a demo visit disagrees with ``now`` (still to come though its start has passed, under way
    though its chair time is over, or given though it starts later), or an earlier version of the loader
    made the demo."""
    behind = (Q(status__in=UPCOMING_STATUSES, start__lt=now)
              | Q(status__in=(SessionStatus.CHECKED_IN, SessionStatus.IN_TREATMENT), end__lte=now)
              # Laid out after now: the clock was set back.
              | Q(status__in=(SessionStatus.DISCHARGED, SessionStatus.NO_SHOW, SessionStatus.CHECKED_IN,
                              SessionStatus.IN_TREATMENT), start__gt=now))
    return (demo_patients().exclude(notes=DEMO_NOTE).exists()
            or Session.objects.filter(behind, patient__in=demo_patients()).exists())


def remove_demo() -> int:
    """Delete the demo's patients and everything recorded about them, charts and texts included.

    Returns the number of patients removed. Rows are deleted from the most
    dependent up, as the models protect a session or a patient that still has
    a chart.
    """
    patients = demo_patients()
    sessions = Session.objects.filter(patient__in=patients)
    phones = [phone for phone in patients.values_list("phone", flat=True) if phone]
    SessionMeasure.objects.filter(Q(session__in=sessions) | Q(measure__patient__in=patients)).delete()
    OutcomeMeasure.objects.filter(patient__in=patients).delete()
    remove_demo_stock()  # its dispense entries name the demo's doses, sessions and patients
    DeviceGiven.objects.filter(dose__session__in=sessions).delete()
    Dose.objects.filter(session__in=sessions).delete()
    VitalSigns.objects.filter(session__in=sessions).delete()
    Assessment.objects.filter(session__in=sessions).delete()
    RemsForm.objects.filter(session__in=sessions).delete()
    WorkItem.objects.filter(Q(patient__in=patients) | Q(session__in=sessions)).delete()
    TextMessage.objects.filter(Q(patient__in=patients) | Q(session__in=sessions)).delete()
    OutboxMessage.objects.filter(to__in=phones).delete()
    sessions.delete()  # reminders go with them
    remove_demo_authorisations(TreatmentCourse.objects.filter(patient__in=patients))
    TreatmentCourse.objects.filter(patient__in=patients).delete()  # outreach goes with them
    PatientAccess.objects.filter(patient__in=patients).delete()
    count = patients.count()
    patients.delete()
    return count
