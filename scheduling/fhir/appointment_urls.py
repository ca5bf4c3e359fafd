"""Addresses of FHIR Appointments (read, search, book, cancel), included by ``scheduling.fhir.urls``."""

from __future__ import annotations

urlpatterns: list = []
