from django.urls import path
from rest_framework.routers import SimpleRouter

from scheduling.api.measures import MeasureViewSet, PatientMeasuresView
from scheduling.api.rems_forms import RemsFormViewSet
from scheduling.api.views import (
    AvailabilityView,
    ChairViewSet,
    LocationViewSet,
    MeView,
    RotateCalendarTokenView,
    SessionViewSet,
)

router = SimpleRouter()
router.register("locations", LocationViewSet, basename="location")
router.register("chairs", ChairViewSet, basename="chair")
router.register("sessions", SessionViewSet, basename="session")
router.register("rems-forms", RemsFormViewSet, basename="rems-form")
router.register("measures", MeasureViewSet, basename="measure")
urlpatterns = [
    path("availability/", AvailabilityView.as_view(), name="availability"),
    path("me/", MeView.as_view(), name="me"),
    path("me/calendar-token/", RotateCalendarTokenView.as_view(), name="me-calendar-token"),
    path("patients/<int:pk>/measures/", PatientMeasuresView.as_view(), name="patient-measures"),
    *router.urls,
]
