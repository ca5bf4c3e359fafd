"""The demo's access log: who opened which patient's record over the last week, and one browser.

Every visit of the last week that was given or is under way was opened twice: by the
front desk at the patient's page a few minutes before it (arrival), and by the visit's
clinician at its chart just after it began. Those are the openings a clinic's day makes,
so a manager trying the access log finds something to filter.

One clinician (``BROWSER``) opened more different records than ``UNUSUAL_ACCESS_RECORDS``
within ``UNUSUAL_ACCESS_MINUTES`` yesterday evening, without visits to explain it: the
manager's home and the access log show what the unusual-access flag looks like.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model

from clinic.roles import FRONT_DESK
from patients.models import PatientAccess
from scheduling.demo.reset import demo_patients
from scheduling.models import Session, SessionStatus

HISTORY_DAYS = 7
BROWSER = "nurse_lind"
EVENING_ZONE = ZoneInfo("America/New_York")  # Midtown's: "yesterday evening" there
OPENED_STATUSES = (SessionStatus.DISCHARGED, SessionStatus.CHECKED_IN, SessionStatus.IN_TREATMENT)


def write_access_log(users: dict, *, now: datetime) -> int:
    """Write the last week's openings of the demo's records; returns how many rows."""
    desk = users[FRONT_DESK]
    visits = (Session.objects.filter(patient__in=demo_patients(), status__in=OPENED_STATUSES,
                                     start__gte=now - timedelta(days=HISTORY_DAYS), start__lte=now)
              .values_list("pk", "patient_id", "clinician_id", "start"))
    rows = []
    for session_id, patient_id, clinician_id, start in visits:
        rows.append(PatientAccess(patient_id=patient_id, user=desk, at=start - timedelta(minutes=5),
                                  channel=PatientAccess.Channel.WEB, path=f"/patients/{patient_id}/"))
        if clinician_id is not None and start + timedelta(minutes=2) <= now:
            rows.append(PatientAccess(patient_id=patient_id, user_id=clinician_id, at=start + timedelta(minutes=2),
                                      channel=PatientAccess.Channel.WEB, path=f"/sessions/{session_id}/chart/"))
    rows += _browsing(now)
    PatientAccess.objects.bulk_create(rows)
    return len(rows)


def _browsing(now: datetime) -> list[PatientAccess]:
    """``BROWSER`` opening a few more records than the limit, evenly within the window, yesterday evening."""
    browser = get_user_model().objects.filter(username=BROWSER).first()
    if browser is None:
        return []
    opened = settings.UNUSUAL_ACCESS_RECORDS + 4
    patients = list(demo_patients().order_by("mrn").values_list("pk", flat=True)[:opened])
    yesterday = now.astimezone(EVENING_ZONE).date() - timedelta(days=1)
    began = datetime.combine(yesterday, time(20, 10), tzinfo=EVENING_ZONE)
    step = timedelta(minutes=settings.UNUSUAL_ACCESS_MINUTES) * 0.8 / max(len(patients) - 1, 1)
    return [PatientAccess(patient_id=patient_id, user=browser, at=began + step * index,
                          channel=PatientAccess.Channel.WEB, path=f"/patients/{patient_id}/")
            for index, patient_id in enumerate(patients)]
