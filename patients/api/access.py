"""Reading a patient's history through another app's list is a read of the record, and is logged."""

from __future__ import annotations

from patients.models import PatientAccess
from patients.services import record_accesses


class LogsPatientHistoryReads:
    """For list views whose rows carry ``patient_id``: one patient's rows (``?patient=``) are their history.

    A day's schedule names many patients without opening any record, so only
    a list asked for by patient is logged, once per patient on the page.
    """

    def page_of_rows(self, request) -> tuple[list | None, list]:
        """The page to answer (``None`` when not paginated) and its rows, with the read logged."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        if request.query_params.get("patient"):
            record_accesses(patient_ids=[row.patient_id for row in rows], user=request.user,
                            channel=PatientAccess.Channel.API, path=request.path)
        return page, rows
