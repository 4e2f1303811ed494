"""`manage.py localstripe_webhook`: have localstripe send its (signed) events to this app.

Development only (scripts/run-dev runs it): real Stripe webhooks are set up in
Stripe's dashboard with the URL /webhooks/stripe/ and STRIPE_WEBHOOK_SECRET.
"""

import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse


class Command(BaseCommand):
    help = "Register this app's webhook URL with localstripe (waits for it to start)."

    def add_arguments(self, parser):
        parser.add_argument("--wait", type=float, default=15, help="seconds to wait for localstripe")

    def handle(self, *args, wait, **options):
        if not settings.STRIPE_USES_LOCALSTRIPE:
            raise CommandError("STRIPE_SECRET_KEY is set: configure webhooks in Stripe's dashboard instead.")
        target = f"{settings.SITE_URL}{reverse('billing_webhooks:stripe')}"
        body = json.dumps({"url": target, "secret": settings.STRIPE_WEBHOOK_SECRET}).encode()
        config = f"{settings.LOCALSTRIPE_URL}/_config/webhooks/whiskers"
        deadline = time.monotonic() + wait
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(config, data=body), timeout=2).close()
                break
            except (urllib.error.URLError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"localstripe did not answer at {settings.LOCALSTRIPE_URL}: {exc}"
                    ) from exc
                time.sleep(0.3)
        self.stdout.write(f"localstripe at {settings.LOCALSTRIPE_URL} sends its events to {target}")
