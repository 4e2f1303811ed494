"""Twilio's callbacks: delivery reports and texts to our number.

Both check `X-Twilio-Signature` against the URL Twilio called, which is the
public one: behind a TLS-terminating proxy Django sees http://internal-host,
so SITE_URL (and, with DJANGO_BEHIND_TLS_PROXY, X-Forwarded-Proto/Host) give the
URL that was signed. A missing or forged signature gets 403 and changes nothing.
Each callback is applied once by its message id: a replayed one gets the same answer
and changes nothing (`services.twilio_callback_first_time`).
"""

import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator, get_signature_algorithm

from notifications import services
from project.accounts.policies import public

logger = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _signed_urls(request) -> list[str]:
    """The URLs Twilio may have signed: our public address first, then what the request says."""
    urls = [f"{settings.SITE_URL}{request.get_full_path()}", request.build_absolute_uri()]
    return list(dict.fromkeys(urls))


def signature_is_valid(request) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.TWILIO_AUTH_TOKEN
    if not (signature and token):
        return False
    validator = RequestValidator(token)
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings", ""))
    return any(validator.validate(url, request.POST, signature, algorithm) for url in _signed_urls(request))


def _forbidden(request) -> HttpResponseForbidden:
    logger.warning("Rejected a Twilio callback with a missing or invalid signature: %s", request.path)
    return HttpResponseForbidden("Invalid or missing X-Twilio-Signature.", content_type="text/plain")


@public
@csrf_exempt
@require_POST
def twilio_status(request):
    if not signature_is_valid(request):
        return _forbidden(request)
    services.notification_status_update(
        provider_id=request.POST.get("MessageSid", ""),
        provider_status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


@public
@csrf_exempt
@require_POST
def twilio_inbound(request):
    if not signature_is_valid(request):
        return _forbidden(request)
    outcome = services.sms_inbound(
        # SmsSid is the older name Twilio still sends alongside MessageSid.
        message_sid=request.POST.get("MessageSid") or request.POST.get("SmsSid", ""),
        from_number=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
        opt_out_type=request.POST.get("OptOutType", ""),
    )
    logger.info("Text from %s: %s", request.POST.get("From", ""), outcome)
    # Twilio answers STOP/START/HELP itself; we add nothing.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
