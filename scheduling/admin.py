from django.contrib import admin

from scheduling.models import CalendarFeed, Chair, Closure, Location, OpeningHours, Session


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
                    "active")
    list_filter = ("rems_certified", "active")
    search_fields = ("name",)
    filter_horizontal = ("staff",)
    inlines = [OpeningHoursInline, ClosureInline, ChairInline]


@admin.register(Chair)
class ChairAdmin(admin.ModelAdmin):
    list_display = ("name", "location", "active", "serves_esketamine", "has_infusion_pump")
    list_filter = ("location", "active", "serves_esketamine", "has_infusion_pump")


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    """Read-only: sessions change through the booking and charting screens, which enforce the rules."""

    list_display = ("start", "patient", "location", "chair", "clinician", "status", "late_cancel")
    list_filter = ("status", "location", "recorded_history", "late_cancel")
    date_hierarchy = "start"
    search_fields = ("patient__last_name", "patient__mrn")
    list_select_related = ("patient", "location", "chair", "clinician")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
