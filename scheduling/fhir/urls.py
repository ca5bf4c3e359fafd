"""Addresses under ``/fhir/``: the read resources here, Appointments from ``appointment_urls``.

FHIR addresses have no trailing slash. The last pattern answers every other
address under ``/fhir/`` (an unknown resource type) with an OperationOutcome.
"""

from __future__ import annotations

from django.urls import path

from scheduling.fhir import appointment_urls, care_plans, locations, metadata, patients, practitioners, slots
from scheduling.fhir.views import posted_search

RESOURCES = [
    ("Patient", patients.PatientSearchView, patients.PatientReadView),
    ("Practitioner", practitioners.PractitionerSearchView, practitioners.PractitionerReadView),
    ("Location", locations.LocationSearchView, locations.LocationReadView),
    ("Schedule", locations.ScheduleSearchView, locations.ScheduleReadView),
    ("Slot", slots.SlotSearchView, slots.SlotReadView),
    ("CarePlan", care_plans.CarePlanSearchView, care_plans.CarePlanReadView),
]

urlpatterns: list = [
    path("metadata", metadata.CapabilityStatementView.as_view(), name="fhir-metadata"),
    *[pattern for kind, search, read in RESOURCES for pattern in (
        path(kind, search.as_view(), name=f"fhir-{kind.lower()}-search"),
        path(f"{kind}/_search", posted_search(search).as_view(), name=f"fhir-{kind.lower()}-posted-search"),
        path(f"{kind}/<str:resource_id>", read.as_view(), name=f"fhir-{kind.lower()}"),
    )],
    *appointment_urls.urlpatterns,
    path("<path:rest>", metadata.UnknownAddressView.as_view(), name="fhir-unknown"),
]
