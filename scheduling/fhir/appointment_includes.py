"""The resources an Appointment search's ``_include`` adds, built from the page's rows.

The page's sessions were read with their patient, clinician, chair and site
(``appointments.appointments()``), so the included Patient, Practitioner and
chair Locations cost no query however long the page; the sites' opening hours
(a site Location lists them) are one query for all. Each resource appears once.
"""

from __future__ import annotations

from django.db.models import prefetch_related_objects
from fhir.resources.R4B.resource import Resource

from scheduling.fhir.locations import chair_resource, site_resource
from scheduling.fhir.patients import checked_patient_json, patient_resource
from scheduling.fhir.practitioners import practitioner_resource
from scheduling.models import Session


def _participants(sessions: list[Session], kinds: set[str]) -> tuple[dict, dict, dict, dict]:
    """The page's patients, clinicians, sites and chairs of the ``kinds`` asked, each once by id."""
    patients, clinicians, chairs, sites = {}, {}, {}, {}
    for session in sessions:
        if "Patient" in kinds:
            patients.setdefault(session.patient_id, session.patient)
        if "Practitioner" in kinds and session.clinician_id is not None:
            clinicians.setdefault(session.clinician_id, session.clinician)
        if "Location" in kinds:
            if session.chair_id is not None:
                if session.chair.location_id == session.location_id:
                    session.chair.location = session.location  # read with the session: no query for the site
                chairs.setdefault(session.chair_id, session.chair)
            if session.location_id is not None:
                sites.setdefault(session.location_id, session.location)
    prefetch_related_objects(list(sites.values()), "hours")
    return patients, clinicians, sites, chairs


def _others(clinicians: dict, sites: dict, chairs: dict) -> list[Resource]:
    return [*map(practitioner_resource, clinicians.values()), *map(site_resource, sites.values()),
            *map(chair_resource, chairs.values())]


def included_resources(sessions: list[Session], kinds: set[str]) -> list[Resource]:
    """The Patient, Practitioner and Location resources of ``sessions`` of the ``kinds`` asked, each once."""
    patients, clinicians, sites, chairs = _participants(sessions, kinds)
    return [*map(patient_resource, patients.values()), *_others(clinicians, sites, chairs)]


def included_json(sessions: list[Session], kinds: set[str]) -> list[dict]:
    """``included_resources`` in FHIR JSON, as a search writes them: each validated by the library, the
    Patients (most of what a day's search includes) written from their checked JSON, the rest by the library."""
    patients, clinicians, sites, chairs = _participants(sessions, kinds)
    return [*map(checked_patient_json, patients.values()),
            *(resource.model_dump(mode="json", exclude_none=True) for resource in _others(clinicians, sites, chairs))]
