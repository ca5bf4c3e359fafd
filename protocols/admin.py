"""Managers edit protocols here; a protocol in use is frozen and copied as a new version instead."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from clinic.errors import ClinicError
from protocols import services
from protocols.models import EDITABLE_WHEN_IN_USE, Phase, PriorAuthorisation, Protocol, TreatmentCourse

IN_USE_MESSAGE = (
    "This protocol is followed by treatment courses, so its schedule and settings are read-only: "
    "changing them would rewrite those courses' history. Use the “Copy as a new version” action "
    "in the protocol list and edit the copy."
)


class PhaseFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.instance
            for form in sorted(self.forms, key=lambda form: form.cleaned_data.get("order") or 0)
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            services.check_phase_sequence(kept)
        except ClinicError as exc:
            raise ValidationError(exc.detail) from exc


class PhaseInline(admin.TabularInline):
    model = Phase
    formset = PhaseFormSet
    extra = 0
    fields = ("order", "name", "sessions", "earliest_days", "target_days", "target_alt_days", "latest_days",
              "weekly_earliest_days", "weekly_target_days", "weekly_latest_days")

    # The parent protocol is ``obj`` in these checks: its phases are frozen once in use.
    def has_add_permission(self, request, obj=None) -> bool:
        return super().has_add_permission(request, obj) and not (obj and obj.is_in_use())

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not (obj and obj.is_in_use())

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.is_in_use())


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "modality", "version", "active", "chair_minutes", "observation_minutes",
                    "courses_count")
    list_filter = ("modality", "active")
    search_fields = ("slug", "name")
    inlines = [PhaseInline]
    actions = ["copy_as_new_version"]
    readonly_fields = ("version", "previous_version", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("slug", "name", "modality", "active", "requires_authorisation", "version",
                           "previous_version")}),
        ("Session", {"fields": ("chair_minutes", "observation_minutes", "first_session_latest_days")}),
        ("Vital-sign thresholds", {"fields": ("bp_systolic_max", "bp_diastolic_max", "spo2_min")}),
        ("Dose rules", {"fields": ("first_dose_mg", "allowed_doses_mg", "requires_prior_56_for_84",
                                   "iv_mg_per_kg")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(course_count=Count("courses"))

    @admin.display(description="courses", ordering="course_count")
    def courses_count(self, protocol: Protocol) -> int:
        return protocol.course_count

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_in_use():
            return [
                field.name for field in Protocol._meta.concrete_fields
                if not field.primary_key and field.name not in EDITABLE_WHEN_IN_USE
            ]
        return super().get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.is_in_use())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        protocol = self.get_object(request, object_id)
        if request.method == "GET" and protocol is not None and protocol.is_in_use():
            messages.warning(request, IN_USE_MESSAGE)
        return super().change_view(request, object_id, form_url, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The services refuse a change that would rewrite history (a course may
        # have started on the protocol since the form was opened): show the
        # refusal instead of a server error; the transaction is already undone.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ClinicError as exc:
            messages.error(request, exc.detail)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if not change:
            obj.save()
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        services.update_protocol(by=request.user, protocol=obj, changes=changes)

    def save_formset(self, request, form, formset, change):
        if formset.model is Phase and change and (formset.has_changed() or formset.deleted_forms):
            form.instance.check_editable()
        super().save_formset(request, form, formset, change)

    @admin.action(description="Copy as a new version (for editing a protocol in use)")
    def copy_as_new_version(self, request, queryset):
        for protocol in queryset:
            copy = services.copy_protocol_as_new_version(by=request.user, protocol=protocol)
            url = reverse("admin:protocols_protocol_change", args=[copy.pk])
            self.message_user(
                request,
                format_html(
                    "Created <a href=\"{}\">{}</a> from {}. It is inactive: edit it, mark it active, "
                    "and mark the old version inactive so new courses use the new one.",
                    url, copy.slug, protocol.slug,
                ),
                messages.SUCCESS,
            )


@admin.register(TreatmentCourse)
class TreatmentCourseAdmin(admin.ModelAdmin):
    """View-only: courses start, pause and end through the API so eligibility and state rules always apply."""

    list_display = ("id", "patient", "protocol", "modality", "start_date", "status", "maintenance_frequency",
                    "created_at")
    list_filter = ("status", "modality", "protocol")
    search_fields = ("patient__mrn", "patient__last_name", "patient__first_name")
    list_select_related = ("patient", "protocol")
    raw_id_fields = ("patient",)
    date_hierarchy = "start_date"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PriorAuthorisation)
class PriorAuthorisationAdmin(admin.ModelAdmin):
    """View-only: authorisations are entered and changed through the API and the course's pages, so the rules
    on approvals, overlapping days and status moves always apply."""

    list_display = ("id", "course", "payer", "number", "status", "units_approved", "first_day", "last_day",
                    "submitted_on", "decided_on")
    list_filter = ("status", "payer")
    search_fields = ("number", "payer", "course__patient__mrn", "course__patient__last_name")
    list_select_related = ("course__patient", "course__protocol")
    raw_id_fields = ("course",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
