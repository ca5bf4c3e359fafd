from django.urls import path

from scheduling import views

urlpatterns = [
    path("ical/clinician/<str:token>.ics", views.clinician_ical, name="clinician-ical"),
]
