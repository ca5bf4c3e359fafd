from django.urls import path

from patients import access_log, views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="new"),
    # The scheduling app serves the full patient page at this same address (its
    # URLs come first); the name stays so links from this app reach it.
    path("<int:patient_id>/", views.patient_detail, name="detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("access-log/", access_log.access_log_page, name="access-log"),
]
