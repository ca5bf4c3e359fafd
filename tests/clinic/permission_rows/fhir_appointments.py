"""The role matrix's rows for FHIR Appointments and booking (see ``tests/clinic/permission_rows/__init__.py``).

FHIR answers an anonymous caller 401 with an OperationOutcome (it is an API,
though not under /api/), and a form-encoded body (all the matrix sends to a
page-like address) is a 415: past the door, as the matrix asks.
"""

from __future__ import annotations

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from tests.clinic.permission_rows.table import ALL, Row

READ = "FHIR: read and search (`/fhir/`)"
BOOK = "FHIR: book and cancel Appointments (`POST /fhir/Appointment`, `$book`, `PUT`/`PATCH` its status)"
ANONYMOUS = {"anonymous": frozenset({401})}

ROWS: list[Row] = [
    Row("fhir/Appointment", "GET", ALL, READ, expect=ANONYMOUS),
    Row("fhir/Appointment/<pk>", "GET", ALL, READ, args={"pk": "session"}, expect=ANONYMOUS),
    Row("fhir/Appointment/_search", "GET", ALL, READ, query="patient=Patient/{patient}", expect=ANONYMOUS),
    Row("fhir/Appointment/_search", "POST", ALL, READ, body={"patient": "Patient/1"},
        expect={**ANONYMOUS, **{role: frozenset({200}) for role in (FRONT_DESK, CLINICIAN, MANAGER)}}),
    Row("fhir/Appointment", "POST", ALL, BOOK, expect=ANONYMOUS),
    Row("fhir/Appointment/<operation>", "POST", ALL, BOOK, args={"operation": "=$book"}, expect=ANONYMOUS),
    Row("fhir/Appointment/<pk>", "PUT", ALL, BOOK, args={"pk": "session"}, expect=ANONYMOUS),
    Row("fhir/Appointment/<pk>", "PATCH", ALL, BOOK, args={"pk": "session"}, expect=ANONYMOUS),
]


def world(objects: dict) -> dict:
    """The keys these rows name, made inside the matrix's world (rolled back after the module)."""
    return {}
