from django.contrib import admin

from notifications.models import Notification, NotificationAttempt, NotificationPreference


class AttemptInline(admin.TabularInline):
    model = NotificationAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["started_at", "duration_ms", "outcome", "provider_id", "error_code", "error"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """For data repairs; operations use /ops/notifications/."""

    list_display = ["id", "created_at", "user", "kind", "channel", "status", "attempts", "ride"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["to", "user__email", "provider_id"]
    raw_id_fields = ["user", "ride"]
    readonly_fields = [
        "created_at",
        "updated_at",
        "sent_at",
        "delivered_at",
        "last_attempt_at",
        "enqueued_at",
    ]
    inlines = [AttemptInline]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "sms_opted_out_at", "sms_opt_out_word", "updated_at"]
    raw_id_fields = ["user"]
    search_fields = ["user__email"]
