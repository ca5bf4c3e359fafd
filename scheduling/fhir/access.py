"""Every FHIR read or search that answers with a patient's data is logged, as the API logs its reads."""

from __future__ import annotations

from collections.abc import Iterable

from patients.models import PatientAccess
from patients.services import record_accesses


def log_patient_reads(request, patient_ids: Iterable[int]) -> None:
    """Log that the caller read each of these patients' records (once each, one INSERT, channel API).

    Called for Patient, CarePlan and Appointment answers, reads and searches,
    with the patients on the page (included resources too); a search that
    finds no one logs nothing.
    """
    wanted = {pk for pk in patient_ids if pk is not None}
    if wanted:
        record_accesses(patient_ids=wanted, user=request.user, channel=PatientAccess.Channel.API,
                        path=request.get_full_path())
