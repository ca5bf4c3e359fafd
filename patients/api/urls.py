from django.urls import path
from rest_framework.routers import SimpleRouter

from patients.api.views import AccessLogView, PatientViewSet

router = SimpleRouter()
router.register("patients", PatientViewSet, basename="patient")
urlpatterns = [
    path("audit/access/", AccessLogView.as_view(), name="audit-access"),
    *router.urls,
]
