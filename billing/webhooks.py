"""Stripe webhooks: one URL, the signature checked on the raw body, each event applied once."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import services
from billing.gateway import InvalidWebhook, get_gateway
from project.accounts.policies import public


@public  # Stripe signs each request; the signature is the check
@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = get_gateway().parse_webhook(request.body, request.headers.get("Stripe-Signature", ""))
    except InvalidWebhook as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    outcome = services.webhook_process(event)
    return JsonResponse({"received": event.get("id"), "outcome": outcome})
