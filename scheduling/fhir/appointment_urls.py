"""Addresses of FHIR Appointments (read, search, book, cancel), included by ``scheduling.fhir.urls``."""

from __future__ import annotations

from django.urls import path, register_converter

from scheduling.fhir.appointment_views import AppointmentsView, AppointmentView, BookView
from scheduling.fhir.views import posted_search


class BookOperation:
    """``$book``: FHIR names operations with a dollar, which a plain path pattern (and the role matrix's
    reading of the patterns, which drops regex anchors) would not keep."""

    regex = r"\$book"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(BookOperation, "book_operation")

urlpatterns: list = [
    path("Appointment", AppointmentsView.as_view(), name="fhir-appointments"),
    path("Appointment/_search", posted_search(AppointmentsView).as_view(), name="fhir-appointment-posted-search"),
    path("Appointment/<book_operation:operation>", BookView.as_view(), name="fhir-appointment-book"),
    path("Appointment/<str:pk>", AppointmentView.as_view(), name="fhir-appointment"),
]
