"""The hot paths, each beside its raw-SQL floor, in the order they are measured.

- ``hot_path``: what a case is (``Case``), and the SQL and API helpers the cases share;
- ``inputs``: the courses the cases book and search for;
- ``desk_cases``: free slots, a booking, the day board, a course's plan;
- ``sweep_cases``: the due-visit sweep and the reminder sweep;
- ``api_cases``: the worklist page and patient search through the API;
- ``fhir_cases``: a day of Appointments for a site through the FHIR face;
- ``report_cases``: the managers' dashboard, a month for all sites;
- ``offer_cases``: a thousand cancelled chair times offered by text.
"""

from __future__ import annotations

from scheduling.benchmark.api_cases import PatientSearch, WorklistApi
from scheduling.benchmark.desk_cases import Availability, Board, Booking, Plan
from scheduling.benchmark.fhir_cases import FhirAppointmentsDay
from scheduling.benchmark.offer_cases import OfferSweep
from scheduling.benchmark.report_cases import Dashboard
from scheduling.benchmark.sweep_cases import DueVisitSweep, ReminderSweep

# In this order: the booking case adds sessions the later ones see, and the worklist page
# lists the items the due-visit sweep opened. The offer sweep cancels a thousand bookings: last, and it puts
# them back afterwards.
CASES = (Availability, Booking, Board, Plan, DueVisitSweep, ReminderSweep, WorklistApi, PatientSearch,
         FhirAppointmentsDay, Dashboard, OfferSweep)
