from django.contrib import admin

from bookings.models import Pet, Place, Ride, RideEvent, RidePet


@admin.register(Pet)
class PetAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "owner", "weight_lb", "crate_required", "archived_at"]
    list_filter = ["type", "crate_required"]
    search_fields = ["name", "owner__email", "owner__name"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["label", "kind", "owner", "address"]
    list_filter = ["kind"]
    search_fields = ["label", "address", "owner__email", "owner__name"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["lat", "lng"]


class RideEventInline(admin.TabularInline):
    model = RideEvent
    extra = 0
    readonly_fields = ["created_at", "actor", "action", "from_status", "to_status", "note", "photo", "data"]
    can_delete = False


class RidePetInline(admin.TabularInline):
    model = RidePet
    extra = 0
    raw_id_fields = ["pet"]


@admin.register(Ride)
class RideAdmin(admin.ModelAdmin):
    """Read-mostly: status changes go through the services, never this form."""

    list_display = ["id", "scheduled_at", "status", "customer", "pet_names", "driver", "price_cents"]
    list_filter = ["status"]
    search_fields = ["id", "customer__email", "pets__name", "pickup_address", "dropoff_address"]
    list_select_related = ["customer", "driver"]
    readonly_fields = [
        "status", "driver", "price_cents", "quote", "accepted_at", "ended_at", "created_at", "updated_at",
    ]  # fmt: skip
    raw_id_fields = ["customer"]
    inlines = [RidePetInline, RideEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_party()
