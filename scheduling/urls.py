from django.urls import path

from scheduling.pages import ical
from scheduling.pages import outbox as outbox_pages

urlpatterns = [
    path("ical/clinician/<str:token>.ics", ical.clinician_ical, name="clinician-ical"),
    path("outbox/", outbox_pages.outbox, name="outbox"),
    path("outbox/reply/", outbox_pages.outbox_reply, name="outbox-simulate-reply"),
]
