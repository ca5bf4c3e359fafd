"""The role matrix's rows for the authorisation pages and the renewal summary (see ``__init__.py``)."""

from __future__ import annotations

from tests.clinic.permission_rows.table import ALL, Row
from tests.factories import PriorAuthorisationFactory

PAGES = ("prior authorisation pages: add and edit (`/courses/{id}/authorisations/new/`, "
         "`/authorisations/{id}/edit/`), the renewal summary (`/courses/{id}/renewal-summary/` and `.pdf`)")
COURSE = {"course_id": "course"}
EDITED = {"authorisation_id": "page_authorisation"}

ROWS: list[Row] = [
    Row("courses/<course_id>/authorisations/new/", "GET", ALL, PAGES, args=COURSE),
    Row("courses/<course_id>/authorisations/new/", "POST", ALL, PAGES, args=COURSE, body={"payer": ""}),
    Row("authorisations/<authorisation_id>/edit/", "GET", ALL, PAGES, args=EDITED),
    Row("authorisations/<authorisation_id>/edit/", "POST", ALL, PAGES, args=EDITED, body={"payer": ""}),
    Row("courses/<course_id>/renewal-summary/", "GET", ALL, PAGES, args=COURSE),
    Row("courses/<course_id>/renewal-summary.pdf", "GET", ALL, PAGES, args=COURSE),
]


def world(objects: dict) -> dict:
    """The keys these rows name, made inside the matrix's world (rolled back after the module): an approved
    authorisation of the world's course for the edit form."""
    return {"page_authorisation": PriorAuthorisationFactory(course=objects["course"]).pk}
