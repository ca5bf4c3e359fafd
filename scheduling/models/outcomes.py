"""Which session an outcome measure was taken at.

Patients know nothing of sessions (the dependency points from scheduling to
patients), so the link lives here rather than as a field on the measure.
"""

from __future__ import annotations

import pghistory
from django.db import models

from scheduling.models.sessions import Session


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class SessionMeasure(models.Model):
    """Links one outcome measure to the session it was taken at; a measure has at most one session."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="measure_links")
    measure = models.OneToOneField("patients.OutcomeMeasure", on_delete=models.PROTECT, related_name="session_link")

    class Meta:
        indexes = [models.Index(fields=["session"], name="session_measure_session")]

    def __str__(self) -> str:
        return f"Measure {self.measure_id} at session {self.session_id}"
