"""Addresses under ``/fhir/``: the read resources here, Appointments from ``appointment_urls``.

FHIR addresses have no trailing slash. The last pattern answers every other
address under ``/fhir/`` (an unknown resource type) with an OperationOutcome.
"""

from __future__ import annotations

from django.urls import path

from scheduling.fhir import appointment_urls, metadata

urlpatterns: list = [
    path("metadata", metadata.CapabilityStatementView.as_view(), name="fhir-metadata"),
    *appointment_urls.urlpatterns,
    path("<path:rest>", metadata.UnknownAddressView.as_view(), name="fhir-unknown"),
]
