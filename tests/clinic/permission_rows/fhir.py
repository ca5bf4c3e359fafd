"""The role matrix's rows for FHIR: the CapabilityStatement, the read resources and unknown addresses
(see tests/clinic/permission_rows/__init__.py)."""

from __future__ import annotations

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from tests.clinic.permission_rows.table import ALL, PUBLIC, Row

READ = "FHIR: read and search (`/fhir/`)"
# FHIR answers an anonymous caller with a 401 OperationOutcome, as the API does, not with the login page.
ANONYMOUS = {"anonymous": frozenset({401})}
UNKNOWN = {"rest": "=Encounter"}
NOT_FOUND_FOR_STAFF = {**ANONYMOUS, **{role: frozenset({404}) for role in (FRONT_DESK, CLINICIAN, MANAGER)}}

ROWS: list[Row] = [
    Row("fhir/metadata", "GET", PUBLIC, None),
    # An address under /fhir/ that is no resource: staff are let through to FHIR's 404, whatever the method.
    Row("fhir/<rest>", "GET", ALL, READ, args=UNKNOWN, ok=frozenset({404}), expect=ANONYMOUS),
    *[Row("fhir/<rest>", method, ALL, READ, args=UNKNOWN, expect=NOT_FOUND_FOR_STAFF)
      for method in ("POST", "PUT", "PATCH", "DELETE")],
]


def world(objects: dict) -> dict:
    """The keys these rows name, made inside the matrix's world (rolled back after the module)."""
    return {}
