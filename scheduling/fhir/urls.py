"""Addresses under ``/fhir/``: the read resources here, Appointments from ``appointment_urls``."""

from __future__ import annotations

from scheduling.fhir import appointment_urls

urlpatterns: list = [
    *appointment_urls.urlpatterns,
]
