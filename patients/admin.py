from django.contrib import admin
from django.utils import timezone

from clinic.admin import ReadOnlyAdmin
from patients.access_filters import manager_zone
from patients.models import MEDICINE_FIELDS, SCREENING_FIELDS, OutcomeMeasure, Patient, PatientAccess
from patients.services import record_access


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = (
        "mrn", "last_name", "first_name", "date_of_birth", "diagnosis", "phone_as_dialled", "sms_consent",
        "archived_at",
    )
    list_filter = ("diagnosis", "sms_consent", ("archived_at", admin.EmptyFieldListFilter))
    search_fields = ("mrn", "last_name", "first_name", "phone")
    readonly_fields = ("sms_opted_out_at", "archived_at", "archived_by", "created_at", "updated_at", "created_by")
    fieldsets = (
        (None, {"fields": ("mrn", ("first_name", "last_name", "preferred_name"), ("date_of_birth", "sex"))}),
        ("Contact", {"fields": ("phone", "email", ("emergency_contact_name", "emergency_contact_phone"))}),
        ("Text messages", {"fields": ("sms_consent", "sms_consent_at", "sms_consent_method", "sms_opted_out_at")}),
        ("Clinical", {"fields": ("diagnosis", *SCREENING_FIELDS)}),
        ("Concomitant medicines", {"fields": MEDICINE_FIELDS}),
        ("REMS", {"fields": ("rems_enrolled_on", "rems_patient_id")}),
        ("Notes and record", {
            "fields": ("notes", "created_at", "created_by", "updated_at", "archived_at", "archived_by"),
        }),
    )

    def has_delete_permission(self, request, obj=None) -> bool:
        # Records are archived, never deleted.
        return False

    @admin.display(description="Phone", ordering="phone")
    def phone_as_dialled(self, patient: Patient) -> str:
        return patient.phone_display

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The record in the admin is a read like any other: logged when it is shown."""
        response = super().change_view(request, object_id, form_url, extra_context)
        patient = Patient.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        if request.method == "GET" and patient is not None and response.status_code == 200:
            record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB,
                          path=request.path)
        return response


@admin.register(PatientAccess)
class PatientAccessAdmin(ReadOnlyAdmin):
    """The access log for superusers; managers read it on their own page (``patients:access-log``)."""

    list_display = ("when", "user", "patient", "channel", "path")
    list_filter = ("channel",)
    list_select_related = ("user", "patient")
    search_fields = ("patient__mrn", "patient__last_name", "patient__first_name", "user__username",
                     "user__last_name")
    date_hierarchy = "at"
    raw_id_fields = ("patient", "user")

    def changelist_view(self, request, extra_context=None):
        # On the reader's site's clock, as on the managers' page: the days of the date hierarchy too.
        with timezone.override(manager_zone(request.user)):
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response

    @admin.display(description="When", ordering="at")
    def when(self, access: PatientAccess) -> str:
        local = timezone.localtime(access.at)
        return f"{local:%a %b} {local.day}, {local:%Y %H:%M %Z}"


@admin.register(OutcomeMeasure)
class OutcomeMeasureAdmin(admin.ModelAdmin):
    list_display = ("taken_at", "patient", "instrument", "total", "band", "item9_positive", "alert_acknowledged_at")
    list_filter = ("instrument", "band", "item9_positive")
    date_hierarchy = "taken_at"
    raw_id_fields = ("patient", "recorded_by", "alert_acknowledged_by")
    # Scores come from the scoring rules, and alerts are acknowledged through the
    # service that checks the role: the admin only shows them.
    readonly_fields = ("patient", "instrument", "items", "total", "band", "taken_at", "recorded_by",
                       "item9_positive", "alert_acknowledged_at", "alert_acknowledged_by", "alert_note",
                       "created_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
