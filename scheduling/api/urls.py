from django.urls import path
from rest_framework.routers import SimpleRouter

from scheduling.api import authorisations, reports, stock
from scheduling.api.measures import MeasureViewSet, PatientMeasuresView
from scheduling.api.offers import EarlierWantedView, OfferViewSet
from scheduling.api.outbox import OutboxListView, SimulatedReplyView
from scheduling.api.reminders import ReminderViewSet
from scheduling.api.rems_forms import RemsFormViewSet
from scheduling.api.sms import DeliveryStatusView, InboundTextView
from scheduling.api.views import (
    AvailabilityView,
    ChairViewSet,
    LocationViewSet,
    MeView,
    RotateCalendarTokenView,
    SessionViewSet,
)
from scheduling.api.worklist import WorkItemViewSet

router = SimpleRouter()
router.register("locations", LocationViewSet, basename="location")
router.register("chairs", ChairViewSet, basename="chair")
router.register("sessions", SessionViewSet, basename="session")
router.register("rems-forms", RemsFormViewSet, basename="rems-form")
router.register("measures", MeasureViewSet, basename="measure")
router.register("worklist", WorkItemViewSet, basename="work-item")
router.register("reminders", ReminderViewSet, basename="reminder")
router.register("offers", OfferViewSet, basename="offer")
urlpatterns = [
    path("availability/", AvailabilityView.as_view(), name="availability"),
    path("me/", MeView.as_view(), name="me"),
    path("me/calendar-token/", RotateCalendarTokenView.as_view(), name="me-calendar-token"),
    path("patients/<int:pk>/measures/", PatientMeasuresView.as_view(), name="patient-measures"),
    path("sms/inbound/", InboundTextView.as_view(), name="sms-inbound"),
    path("sms/status/", DeliveryStatusView.as_view(), name="sms-status"),
    path("outbox/", OutboxListView.as_view(), name="outbox-list"),
    path("outbox/reply/", SimulatedReplyView.as_view(), name="outbox-reply"),
    path("sessions/<int:pk>/earlier-wanted/", EarlierWantedView.as_view(), name="session-earlier-wanted-api"),
    *router.urls,
    *authorisations.urlpatterns,
    *reports.urlpatterns,
    *stock.urlpatterns,
]
