from django.contrib import admin

from fleet.models import DriverProfile


@admin.register(DriverProfile)
class DriverProfileAdmin(admin.ModelAdmin):
    """For data repairs only: operations manage drivers in /ops/fleet/drivers/."""

    list_display = [
        "user",
        "vehicle_make",
        "vehicle_model",
        "plate",
        "max_crate_size",
        "on_duty",
        "position_at",
    ]
    list_filter = ["on_duty", "max_crate_size"]
    search_fields = ["user__name", "user__email", "plate"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "position_ride"]
    readonly_fields = [
        "last_lat",
        "last_lng",
        "last_accuracy_m",
        "position_at",
        "invite_requested_at",
        "invite_sent_at",
    ]
