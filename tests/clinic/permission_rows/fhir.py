"""The role matrix's rows for FHIR: the CapabilityStatement, the read resources and unknown addresses
(see tests/clinic/permission_rows/__init__.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from scheduling.fhir.ids import slot_id
from tests.clinic.permission_rows.table import ALL, PUBLIC, Row

READ = "FHIR: read and search (`/fhir/`)"
# FHIR answers an anonymous caller with a 401 OperationOutcome, as the API does, not with the login page.
ANONYMOUS = {"anonymous": frozenset({401})}
UNKNOWN = {"rest": "=Encounter"}
NOT_FOUND_FOR_STAFF = {**ANONYMOUS, **{role: frozenset({404}) for role in (FRONT_DESK, CLINICIAN, MANAGER)}}
# Tuesday 3 March 2026, 12:00 in New York: the matrix's chair is free then.
FREE_START = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)


def _read(route: str, **kwargs) -> Row:
    return Row(f"fhir/{route}", "GET", ALL, READ, expect=ANONYMOUS, **kwargs)


SEARCHES = {"Patient": "family=a", "Practitioner": "", "Location": "", "Schedule": "",
            "Slot": "schedule=Schedule/{chair}", "CarePlan": "patient=Patient/{patient}"}


def _posted_search(kind: str) -> Row:
    """``POST [type]/_search``: the search with its parameters in a form body; allowed, it answers 200."""
    def body(world, caller):
        return dict(part.split("=", 1) for part in SEARCHES[kind].format(**world).split("&") if part)

    staff = {role: frozenset({200}) for role in (FRONT_DESK, CLINICIAN, MANAGER)}
    return Row(f"fhir/{kind}/_search", "POST", ALL, READ, body=body, expect={**ANONYMOUS, **staff})


ROWS: list[Row] = [
    Row("fhir/metadata", "GET", PUBLIC, None),
    *[_read(f"{kind}/_search", query=query) for kind, query in SEARCHES.items()],
    *[_posted_search(kind) for kind in SEARCHES],
    _read("Patient", query="family=a"),
    _read("Patient/<resource_id>", args={"resource_id": "patient"}),
    _read("Practitioner"),
    _read("Practitioner/<resource_id>", args={"resource_id": "clinician"}),
    _read("Location"),
    _read("Location/<resource_id>", args={"resource_id": "fhir_site"}),
    _read("Schedule"),
    _read("Schedule/<resource_id>", args={"resource_id": "chair"}),
    _read("Slot", query="schedule=Schedule/{chair}"),
    _read("Slot/<resource_id>", args={"resource_id": "fhir_slot"}),
    _read("CarePlan", query="patient=Patient/{patient}"),
    _read("CarePlan/<resource_id>", args={"resource_id": "course"}),
    # An address under /fhir/ that is no resource: staff are let through to FHIR's 404, whatever the method.
    _read("<rest>", args=UNKNOWN, ok=frozenset({404})),
    *[Row("fhir/<rest>", method, ALL, READ, args=UNKNOWN, expect=NOT_FOUND_FOR_STAFF)
      for method in ("POST", "PUT", "PATCH", "DELETE")],
]


def world(objects: dict) -> dict:
    """The keys these rows name, made inside the matrix's world (rolled back after the module)."""
    return {"fhir_site": f"site-{objects['site'].pk}", "fhir_slot": slot_id(objects["chair"].pk, FREE_START)}
