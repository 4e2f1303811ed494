"""Read-only views of the money records for superusers. Money moves only through
billing.services (and Stripe); the ledger is never edited by hand."""

from django.contrib import admin

from billing.models import Payment, StripeCustomer, Transaction, WebhookEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "ride_id", "kind", "status", "amount_cents", "source", "provider_id"]
    list_filter = ["kind", "status", "source"]
    search_fields = ["=ride__id", "provider_id", "idempotency_key"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "ride_id",
        "status",
        "amount_cents",
        "captured_cents",
        "refunded_cents",
    ]
    list_filter = ["status"]
    search_fields = ["=ride__id", "payment_intent_id", "setup_intent_id"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "event_id", "outcome"]
    list_filter = ["type"]
    search_fields = ["event_id"]


@admin.register(StripeCustomer)
class StripeCustomerAdmin(ReadOnlyAdmin):
    list_display = ["customer_id", "user", "created_at"]
    search_fields = ["customer_id", "user__email"]
