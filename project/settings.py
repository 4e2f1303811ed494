"""Settings for Whiskers & Wheels.

One module, driven by environment variables (see `.env.example` and the README's
configuration table). Every default is safe for a developer's laptop; production
sets `DJANGO_SECRET_KEY`, `DATABASE_URL`, `REDIS_URL` and the provider keys.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.management.utils import get_random_secret_key

from core.ratelimit import parse_rates
from core.retry import parse_delays

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # runtime state: SQLite file, uploads, dev key, outbox

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; real environment wins

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _secret_key() -> str:
    if key := env.str("DJANGO_SECRET_KEY", default=""):
        return key
    if not DEBUG:
        raise environ.ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for development).")
    # Development only: one generated key kept on disk so sessions survive restarts.
    key_file = VAR_DIR / "dev-secret-key"
    if not key_file.exists():
        VAR_DIR.mkdir(exist_ok=True)
        key_file.write_text(get_random_secret_key())
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Public base URL used in links we send (emails, SMS, provider callbacks).
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_filters",
    "template_partials",
    "phonenumber_field",
    "django_q",
    "ninja",  # serves the API docs (Swagger UI) from our static files, not a CDN
    "core",
    "project.accounts",
    "bookings",
    "fleet",
    "billing",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Django parses multipart bodies for POST only; the API's PUT /rides/{id}/status takes photos.
    "ninja.compatibility.files.fix_request_files_middleware",
    "project.accounts.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "project.accounts.context_processors.portal",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# --- Database -------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Workers and web requests write concurrently: WAL + IMMEDIATE transactions
    # take the write lock up front instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (allauth rate limits live here) ---------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks (django-q2) ----------------------------------------
# Timeout budgets: every provider call (Stripe, Twilio, SMTP), with its retries, must end
# inside a web request's budget (well under the web server's worker timeout, 30 s) and a
# task's time limit, so it fails with an error we record instead of a killed process. The
# deploy checks billing.E003, notifications.E002 and notifications.E003 add the numbers up.
WEB_REQUEST_BUDGET_SECONDS = env.float("WEB_REQUEST_BUDGET_SECONDS", default=10)
Q_TASK_TIMEOUT_SECONDS = env.int("Q_TASK_TIMEOUT_SECONDS", default=60)
# One queue (a Django-Q cluster) per kind of work, so a hung provider stalls only its own:
# payments (Stripe), messages (Twilio, SMTP), dispatch (assigning drivers). core.tasks.enqueue.
TASK_QUEUES = {
    "payments": env.int("Q_WORKERS_PAYMENTS", default=1),
    "messages": env.int("Q_WORKERS_MESSAGES", default=1),
    "dispatch": env.int("Q_WORKERS_DISPATCH", default=1),
}
Q_CLUSTER = {
    "name": "whiskers",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": Q_TASK_TIMEOUT_SECONDS,
    "retry": Q_TASK_TIMEOUT_SECONDS + 30,  # must exceed timeout or a slow task runs twice at once
    "max_attempts": 3,
    "catch_up": False,  # a scheduler that was down does not replay every missed run
    "save_limit": 500,
    "label": "Tasks",
    "ALT_CLUSTERS": {queue: {"workers": workers} for queue, workers in TASK_QUEUES.items()},
}
# The outbox (core.outbox): every consequence of a change, recorded with it and done after commit.
# An item whose task has not finished this long after it was handed to the broker is handed again
# (the broker lost it, or its worker died); a lease keeps it from running twice at once.
OUTBOX_RELAY_AFTER = timedelta(seconds=env.int("OUTBOX_RELAY_AFTER_SECONDS", default=120))
# Back-off between runs of a handler that raised; after the last, the item is failed for operations.
OUTBOX_RETRY_DELAYS = parse_delays(env.str("OUTBOX_RETRY_DELAYS", default="1m,2m,5m,15m,1h,4h"))
# Shown under "Needs attention" on /ops/ once an item has waited this long.
OUTBOX_STUCK_AFTER = timedelta(minutes=env.int("OUTBOX_STUCK_AFTER_MINUTES", default=10))
OUTBOX_KEEP_DONE = timedelta(days=env.int("OUTBOX_KEEP_DONE_DAYS", default=7))
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if env.bool("Q_SYNC", default=False):
    Q_CLUSTER["sync"] = True

# --- Accounts -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "project.accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]  # name, phone: our SignupForm
ACCOUNT_FORMS = {
    "signup": "project.accounts.forms.SignupForm",
    "add_email": "project.accounts.forms.ChangeEmailForm",
}
# Mandatory verification is what lets signup answer a new and a taken address alike
# (ACCOUNT_PREVENT_ENUMERATION): either way the person is told to check their inbox.
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_UNIQUE_EMAIL = True
# One address per account; a new one replaces it only once its mailed link is opened.
ACCOUNT_CHANGE_EMAIL = True
# Tell people when their password or email changes (the old address hears of a new one).
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# Someone signed in who confirms a new address sees it on the email page.
ACCOUNT_EMAIL_CONFIRMATION_AUTHENTICATED_REDIRECT_URL = "account_email"
# allauth rate limits (kept in the cache), per client IP. Failed logins per account are
# counted by project.accounts.login_backoff for every way in (see LOGIN_BACKOFF_* below).
ACCOUNT_RATE_LIMITS = {"login": "30/m/ip", "login_failed": "10/m/ip", "signup": "20/m/ip"}
# Per account (email address), whether it exists or not: after this many failed sign-ins
# each further failure makes the next attempt wait the next delay (the last one repeats);
# a success or a password reset clears the count.
LOGIN_BACKOFF_AFTER_FAILURES = env.int("LOGIN_BACKOFF_AFTER_FAILURES", default=5)
LOGIN_BACKOFF_DELAYS = parse_delays(env.str("LOGIN_BACKOFF_DELAYS", default="1m,2m,4m,8m,15m,30m"))
ACCOUNT_SESSION_REMEMBER = None
PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="US")
# One-time codes texted to verify a number or to log in to the API with it.
PHONE_CODE_LIFETIME = timedelta(minutes=env.int("PHONE_CODE_LIFETIME_MINUTES", default=10))
PHONE_CODE_MAX_ATTEMPTS = env.int("PHONE_CODE_MAX_ATTEMPTS", default=5)  # wrong codes before it locks
# Codes texted per number (and per account), and asked for per IP address.
PHONE_CODE_RATE_PER_NUMBER = parse_rates(env.str("PHONE_CODE_RATE_PER_NUMBER", default="1/30s,5/h,10/d"))
PHONE_CODE_RATE_PER_IP = parse_rates(env.str("PHONE_CODE_RATE_PER_IP", default="10/h"))

# --- Email ---------------------------------------------------------------
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587 (sets EMAIL_BACKEND, EMAIL_HOST, ...)
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Whiskers & Wheels <rides@whiskers.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation -----------------------------------------------
LANGUAGE_CODE = "en-us"
# The operations zone: the business's calendar ("today", dispatch's days) and new users' zone.
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files and uploads -------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploads (handover photos) are private: never under STATIC or a public MEDIA_URL;
# they are streamed by views that check who is asking.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private-media")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security --------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=False)
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    # The proxy terminates TLS; trust its header so request URLs are https.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# How many proxies of ours stand in front of the app, each appending to X-Forwarded-For.
# 0: the header is ignored (anyone can write it). One setting for our own code
# (core.http.client_ip), allauth's rate limits and django-ninja's throttles.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
NINJA_NUM_PROXIES = TRUSTED_PROXY_COUNT
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): our own files only, no inline script or style, no
# framing. The checkout page adds Stripe.js and its frames (billing.views), the back office's
# email preview its own sandboxed page (notifications.ops_views); see the README's Security section.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],  # blob: a handover photo's preview before upload
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
# Permissions-Policy (core.middleware): no page may use these unless its view allows it (the
# driver's pages allow geolocation, the photo steps the camera; core.middleware.permissions_policy).
PERMISSIONS_POLICY = {
    "camera": [],
    "geolocation": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Product rules ---------------------------------------------------------
# Booking window and changes.
BOOKING_MIN_NOTICE = timedelta(minutes=env.int("BOOKING_MIN_NOTICE_MINUTES", default=120))
BOOKING_HORIZON = timedelta(days=env.int("BOOKING_HORIZON_DAYS", default=60))
BOOKING_MAX_PETS = env.int("BOOKING_MAX_PETS", default=4)  # pets in one ride, whatever the vehicle
RESCHEDULE_CUTOFF = timedelta(hours=env.int("RESCHEDULE_CUTOFF_HOURS", default=2))
# A driver may set off ("On my way") no sooner than this before pickup.
RIDE_START_WINDOW = timedelta(minutes=env.int("RIDE_START_WINDOW_MINUTES", default=90))
# Where we drive: both addresses of a ride within a radius of a base point, and no ride longer
# than BOOKING_MAX_MILES (road miles, as quoted). A setting until operations get a table for it.
SERVICE_AREA_CENTER = tuple(
    float(part) for part in env.str("SERVICE_AREA_CENTER", default="40.7831,-73.9712").split(",")
)
SERVICE_AREA_NAME = env.str("SERVICE_AREA_NAME", default="Manhattan")
SERVICE_AREA_RADIUS_MILES = env.int("SERVICE_AREA_RADIUS_MILES", default=30)
BOOKING_MAX_MILES = env.int("BOOKING_MAX_MILES", default=60)
# A ride occupies its driver from pickup time to pickup + drive time + buffer.
RIDE_AVERAGE_SPEED_MPH = 25
RIDE_BUFFER = timedelta(minutes=env.int("RIDE_BUFFER_MINUTES", default=30))
# Cancellation policy: free until this long before pickup, then a share of the fare.
CANCELLATION_FREE_UNTIL = timedelta(hours=env.int("CANCELLATION_FREE_HOURS", default=24))
CANCELLATION_FEE_PERCENT = env.int("CANCELLATION_FEE_PERCENT", default=50)
# Bookings made per customer and per IP address (an unpaid booking holds a driver's slot).
BOOKING_RATE_PER_USER = parse_rates(env.str("BOOKING_RATE_PER_USER", default="10/h"))
BOOKING_RATE_PER_IP = parse_rates(env.str("BOOKING_RATE_PER_IP", default="30/h"))

# Saved places (bookings.models.Place) a customer may keep.
PLACES_PER_CUSTOMER = env.int("PLACES_PER_CUSTOMER", default=20)

# Tariff, in cents of CURRENCY. Every quote is built from these parts.
CURRENCY = "usd"
TARIFF = {
    "base_fare": 1500,
    "per_mile": 180,
    "min_miles": 1,
    "pet_type": {"dog": 0, "cat": 0, "bird": 300, "rabbit": 300, "other": 500},
    # Dogs by weight (lb): handling a large dog takes two hands and a bigger crate.
    "dog_size": [(20, 0, "Small dog"), (50, 500, "Medium dog"), (None, 1000, "Large dog")],
    "crate": 500,
    "special_needs": 800,
    "extra_pet": 1000,  # each pet after the first in one ride (handling, loading time)
    "weekend_percent": 15,
    "short_notice_percent": 20,
    "short_notice_within": timedelta(hours=24),
    "night_percent": 25,
    "night_hours": (20, 7),  # local time: from 20:00 to 07:00
    # Wait-and-return: the driver waits at the destination; after the free minutes, each
    # started block of waiting is charged (on the return leg's fare).
    "wait_free_minutes": 15,
    "wait_block_minutes": 15,
    "wait_block": 600,
}

# Round trips (bookings.trips). The waits a wait-and-return offers, in minutes.
TRIP_WAIT_CHOICES = [15, 30, 45, 60, 90, 120]
# An open return ("when I call") must be called within this long after the outbound pickup;
# past it, operations are asked to call the customer.
TRIP_OPEN_RETURN_WITHIN = timedelta(hours=env.int("TRIP_OPEN_RETURN_WITHIN_HOURS", default=8))
# A called return is picked up no sooner than this after the call.
TRIP_CALL_NOTICE = timedelta(minutes=env.int("TRIP_CALL_NOTICE_MINUTES", default=30))

# Distance: an offline geocoder (US ZIP code centroids) unless another is named.
GEOCODER = env.str("GEOCODER", default="bookings.geocoding.ZipCentroidGeocoder")
ROAD_FACTOR = 1.3  # straight-line distance to a typical road distance

# Functions that fill the demo database, in dependency order (`manage.py seed_demo`).
DEMO_SEEDERS = ["bookings.demo.seed", "fleet.demo.seed", "billing.demo.seed", "notifications.demo.seed"]

# --- JSON API (/api/v1/) ------------------------------------------------------
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default=SECRET_KEY)
JWT_ACCESS_LIFETIME = timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=10))
JWT_REFRESH_LIFETIME = timedelta(days=env.int("JWT_REFRESH_DAYS", default=14))
# A login ends this long after it began, however often its refresh token was rotated.
JWT_REFRESH_FAMILY_LIFETIME = timedelta(days=env.int("JWT_REFRESH_FAMILY_DAYS", default=60))
# Interactive API docs: open in development, admins only otherwise.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=DEBUG)
API_RATE_LIMITS = {"login": "10/m", "register": "5/m", "refresh": "30/m"}
API_RATE_LIMITS |= {"otp_send": "5/m", "otp_verify": "10/m"}  # phone login: POST /auth/otp/...
NINJA_PAGINATION_PER_PAGE = 20

# --- Payments (billing, Stripe) -----------------------------------------------
# Without STRIPE_SECRET_KEY every call goes to localstripe, a local fake Stripe that
# scripts/run-dev starts (the tests start their own): no Stripe account needed.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_USES_LOCALSTRIPE = not STRIPE_SECRET_KEY
LOCALSTRIPE_URL = env.str("LOCALSTRIPE_URL", default="http://localhost:8420").rstrip("/")
if STRIPE_USES_LOCALSTRIPE:
    STRIPE_SECRET_KEY = "sk_test_localstripe"
STRIPE_PUBLISHABLE_KEY = env.str(
    "STRIPE_PUBLISHABLE_KEY", default="pk_test_localstripe" if STRIPE_USES_LOCALSTRIPE else ""
)
STRIPE_WEBHOOK_SECRET = env.str(
    "STRIPE_WEBHOOK_SECRET", default="whsec_localstripe" if STRIPE_USES_LOCALSTRIPE else ""
)
# Empty: the SDK's default (https://api.stripe.com).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default=LOCALSTRIPE_URL if STRIPE_USES_LOCALSTRIPE else "")
STRIPE_JS_URL = env.str(
    "STRIPE_JS_URL",
    default=f"{LOCALSTRIPE_URL}/js.stripe.com/v3/"
    if STRIPE_USES_LOCALSTRIPE
    else "https://js.stripe.com/v3/",
)
# Per attempt: connecting (TCP and TLS), then waiting for the answer. The SDK retries a timed-out
# call once, with the same idempotency key; later retries are the ledger's back-off.
STRIPE_CONNECT_TIMEOUT_SECONDS = env.float("STRIPE_CONNECT_TIMEOUT_SECONDS", default=1)
STRIPE_READ_TIMEOUT_SECONDS = env.float("STRIPE_READ_TIMEOUT_SECONDS", default=3)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=1)
# An unpaid booking gives its slot back after this long.
BILLING_PAYMENT_WINDOW = timedelta(minutes=env.int("BILLING_PAYMENT_WINDOW_MINUTES", default=30))
# A card hold lasts ~5-7 days: rides further ahead save the card and get the hold later...
BILLING_HOLD_MAX_DAYS = timedelta(days=env.int("BILLING_HOLD_MAX_DAYS", default=5))
# ...this long before pickup, off-session.
BILLING_HOLD_LEAD = timedelta(hours=env.int("BILLING_HOLD_LEAD_HOURS", default=48))
LOGGING["loggers"]["stripe"] = {"level": env.str("STRIPE_LOG_LEVEL", default="WARNING")}  # a line per request
# Back-off between attempts of a payment operation after a transient error (then it is flagged).
# Renamed settings: refuse the old names rather than silently run on the defaults.
for _old, _new in {
    "BILLING_RETRY_MINUTES": "BILLING_RETRY_DELAYS",
    "NOTIFY_MAX_ATTEMPTS": "NOTIFY_RETRY_DELAYS",
    "NOTIFY_RETRY_BASE_SECONDS": "NOTIFY_RETRY_DELAYS",
    "NOTIFY_REQUEUE_AFTER_MINUTES": "NOTIFY_REQUEUE_AFTER_SECONDS",
}.items():
    if env.str(_old, default=""):
        raise environ.ImproperlyConfigured(f"{_old} is replaced by {_new}.")
BILLING_RETRY_DELAYS = parse_delays(env.str("BILLING_RETRY_DELAYS", default="1m,5m,15m,1h,4h"))

# --- Notifications (SMS and email) ------------------------------------------
# SMS: Twilio when TWILIO_ACCOUNT_SID is set, else the development backend, which
# records messages (worker console and /ops/notifications/) without sending them.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")  # wins over FROM
TWILIO_API_URL = env.str("TWILIO_API_URL", default="")  # a Twilio-compatible server (tests); empty: Twilio
# Both to connect and to wait for the answer; phone codes are sent inside a web request.
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=5)
TWILIO_STATUS_CALLBACKS = env.bool("TWILIO_STATUS_CALLBACKS", default=True)  # ask for delivery reports
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="notifications.channels.TwilioSmsBackend"
    if TWILIO_ACCOUNT_SID
    else "notifications.channels.DevelopmentSmsBackend",
)
# The only countries we text (ISO codes); numbers elsewhere get email only.
SMS_ALLOWED_COUNTRIES = [code.upper() for code in env.list("SMS_ALLOWED_COUNTRIES", default=["US", "CA"])]
# Seconds, to connect and for each reply; sign-up emails are sent inside a web request.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=5)
NOTIFY_SUPPORT_EMAIL = env.str("NOTIFY_SUPPORT_EMAIL", default="help@whiskers.example")
# Reminders before pickup, in minutes (24 h and 1 h).
NOTIFY_REMINDER_LEADS = [
    timedelta(minutes=m) for m in env.list("NOTIFY_REMINDER_MINUTES", cast=int, default=[1440, 60])
]
# Back-off between attempts of a message after a transient failure (then it is failed).
NOTIFY_RETRY_DELAYS = parse_delays(env.str("NOTIFY_RETRY_DELAYS", default="1m,2m,4m,8m"))
# A queued send whose task has not run after this long is queued again (a lost broker message),
# and a send left "sending" this long is taken for interrupted (its worker died) and retried
# after a look at the provider. Longer than the task time limit, so no running send is taken.
NOTIFY_REQUEUE_AFTER = timedelta(seconds=env.int("NOTIFY_REQUEUE_AFTER_SECONDS", default=120))

# --- Fleet: dispatch, the driver portal, handover photos ----------------------
# Auto-dispatch: a confirmed ride (or one a driver declined, or one rescheduled
# off its driver) gets the best eligible driver from a Django-Q task; rides it
# can't place stay in the /ops/ dispatch queue, flagged.
DISPATCH_AUTO = env.bool("DISPATCH_AUTO", default=True)
# Working hours a new driver starts with, every day of the week (operations time zone),
# until operations or the driver change them: "HH:MM-HH:MM" (24:00 = midnight).
DRIVER_DEFAULT_HOURS = env.str("DRIVER_DEFAULT_HOURS", default="06:00-22:00")
# Availability (fleet.availability): candidate pickup times lie on this grid, and a refused
# time comes with up to this many of the nearest servable ones (that day and the next).
AVAILABILITY_SLOT_MINUTES = env.int("AVAILABILITY_SLOT_MINUTES", default=15)
AVAILABILITY_SUGGESTIONS = env.int("AVAILABILITY_SUGGESTIONS", default=6)
# How often the driver's phone reports its position during a ride (15-30 s),
# how often the driver's page checks for new rides, and how often a customer's
# ride page refreshes its status while the ride is open.
DRIVER_POSITION_INTERVAL_SECONDS = min(max(env.int("DRIVER_POSITION_INTERVAL_SECONDS", default=20), 15), 30)
DRIVER_BOARD_POLL_SECONDS = env.int("DRIVER_BOARD_POLL_SECONDS", default=20)
RIDE_LIVE_POLL_SECONDS = env.int("RIDE_LIVE_POLL_SECONDS", default=10)
# Handover photos (bookings.photos): upload limits, and the long edge we store.
RIDE_PHOTO_MAX_BYTES = env.int("RIDE_PHOTO_MAX_MB", default=10) * 1024 * 1024
RIDE_PHOTO_MAX_PIXELS = 50_000_000
RIDE_PHOTO_MAX_EDGE = 1600
# A driver's set-password link (and any password reset link) stays valid this long.
PASSWORD_RESET_TIMEOUT = env.int("DRIVER_INVITE_VALID_DAYS", default=3) * 86400
