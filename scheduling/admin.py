from django.contrib import admin

from clinic.admin import ReadOnlyAdmin
from scheduling.messaging.policy_changes import save_reminder_policy
from scheduling.models import (
    CalendarFeed,
    Chair,
    Closure,
    Discrepancy,
    LedgerEntry,
    Location,
    Lot,
    Offer,
    OfferText,
    OpeningHours,
    Product,
    Reminder,
    ReminderPolicy,
    RemsForm,
    Session,
    TextMessage,
    WorkItem,
)
from scheduling.pages.reminder_policy_form import PolicyFormBase


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


class ChairInline(admin.TabularInline):
    model = Chair
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "rems_certified", "turnover_minutes", "max_in_treatment_per_clinician",
                    "offers_enabled", "active")
    list_filter = ("rems_certified", "offers_enabled", "active")
    search_fields = ("name",)
    filter_horizontal = ("staff",)
    inlines = [OpeningHoursInline, ClosureInline, ChairInline]


@admin.register(Chair)
class ChairAdmin(admin.ModelAdmin):
    list_display = ("name", "location", "active", "serves_esketamine", "has_infusion_pump")
    list_filter = ("location", "active", "serves_esketamine", "has_infusion_pump")


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    """Read-only: sessions change through the booking and charting screens, which enforce the rules."""

    list_display = ("start", "patient", "location", "chair", "clinician", "status", "late_cancel")
    list_filter = ("status", "location", "recorded_history", "late_cancel")
    date_hierarchy = "start"
    search_fields = ("patient__last_name", "patient__mrn")
    list_select_related = ("patient", "location", "chair", "clinician")


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("user", "rotated_at")
    readonly_fields = ("token", "rotated_at")
    actions = ["rotate_tokens"]

    @admin.action(description="Rotate the selected feeds' secret addresses")
    def rotate_tokens(self, request, queryset):
        for feed in queryset:
            feed.rotate()
            feed.save()


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    """Per-site texting rules under the model's rules (``validate_template``, ``ReminderPolicy.clean``), each
    refusal beside its field; saved through the same service as the manager's page, which re-plans the
    site's reminders still waiting."""

    form = PolicyFormBase

    list_display = ("location", "day_before_at", "same_day_hours_before", "quiet_from", "quiet_until", "daily_cap",
                    "weekly_cap")
    fieldsets = (
        (None, {"fields": ("location",)}),
        ("When", {"fields": (("day_before_enabled", "day_before_at"), ("same_day_enabled", "same_day_hours_before"),
                             ("quiet_from", "quiet_until"), "min_lead_minutes")}),
        ("How many", {"fields": (("daily_cap", "weekly_cap"),)}),
        ("Texts", {"fields": ("day_before_template", "same_day_template", "outreach_template"),
                   "description": "Placeholders: {clinic} {phone} {day} {date} {time} {location}. Never name a "
                                  "drug, treatment or diagnosis."}),
    )

    def save_model(self, request, obj, form, change):
        save_reminder_policy(policy=obj)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("send_at", "kind", "state", "session", "attempts", "reason")
    list_filter = ("state", "kind")
    date_hierarchy = "send_at"


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    """Read-only: offers change only through their texts, the patients' replies and bookings (docs/OFFERS.md)."""

    list_display = ("start", "location", "chair", "patient", "state", "sent_at", "answered_at", "ended_reason")
    list_filter = ("state", "location")
    date_hierarchy = "start"
    raw_id_fields = ("patient", "course", "freed_from", "session")


@admin.register(OfferText)
class OfferTextAdmin(ReadOnlyAdmin):
    list_display = ("send_at", "offer", "state", "attempts", "reason")
    list_filter = ("state",)


@admin.register(TextMessage)
class TextMessageAdmin(ReadOnlyAdmin):
    list_display = ("at", "direction", "purpose", "patient", "delivery_status")
    list_filter = ("direction", "purpose")
    date_hierarchy = "at"
    raw_id_fields = ("patient", "reminder", "session")


@admin.register(RemsForm)
class RemsFormAdmin(ReadOnlyAdmin):
    list_display = ("session", "status", "submitted_at", "confirmation_number")
    list_filter = ("status",)


@admin.register(WorkItem)
class WorkItemAdmin(ReadOnlyAdmin):
    list_display = ("opened_at", "kind", "patient", "location", "closed_at", "assigned_to")
    list_filter = ("kind", "location", ("closed_at", admin.EmptyFieldListFilter))
    raw_id_fields = ("patient", "course", "session")


# --- controlled-substance stock: the ledger changes only through its services (docs/STOCK.md) ---------------


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "strength_mg", "volume_ml", "unit", "active")
    list_filter = ("kind", "active")


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ("lot_number", "product", "location", "expiry", "received_quantity")
    list_filter = ("product", "location")
    search_fields = ("lot_number",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """The ledger, to read: no entry is added, changed or deleted here (and the database refuses the last two)."""

    list_display = ("at", "kind", "lot", "quantity", "counted_quantity", "by", "witness", "session")
    list_filter = ("kind", "lot__location")
    date_hierarchy = "at"
    raw_id_fields = ("lot", "session", "patient", "dose", "corrects")


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyAdmin):
    list_display = ("opened_at", "lot", "expected", "counted", "difference", "explained_at", "loss_reported_dea106")
    list_filter = (("explained_at", admin.EmptyFieldListFilter),)
