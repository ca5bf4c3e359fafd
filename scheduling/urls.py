from django.urls import path

from scheduling import views, web

urlpatterns = [
    path("ical/clinician/<str:token>.ics", views.clinician_ical, name="clinician-ical"),
    path("outbox/", web.outbox, name="outbox"),
    path("outbox/reply/", web.outbox_reply, name="outbox-simulate-reply"),
]
