"""Civic311 settings: every value from an environment variable (parsed by civic311/env.py).

The defaults run on a laptop with nothing but Python: SQLite, tasks in-process, mail to the
console. Production sets DATABASE_URL, CELERY_BROKER_URL, DJANGO_SECRET_KEY and friends;
`.env.example` lists every variable. Parsers are strict and fail loudly on a bad value,
because a typo in production should stop the boot, not quietly fall back to a default.
"""

from __future__ import annotations

import importlib.util
import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from civic311.env import (
    env_bool,
    env_broker,
    env_cache,
    env_database,
    env_email,
    env_floats,
    env_from_email,
    env_hosts,
    env_int,
    env_list,
    env_log_level,
    env_rate,
    env_str,
    env_url,
    map_area,
    refuse_unsafe_production,
    url_origin,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# django-leaflet is used for its Leaflet assets (static/leaflet/). It is not an installed
# app because its admin module imports GeoDjango, which needs GDAL; we keep geometry as
# GeoJSON evaluated with shapely instead. Its template tags ({% leaflet_map %}, {% leaflet_js %})
# emit inline scripts, which the Content-Security-Policy refuses: pages load
# leaflet/leaflet.js and static/js/civic311-maps.js instead.
# Found without importing it: django-leaflet reads LEAFLET_CONFIG when first imported.
LEAFLET_DIR = Path(importlib.util.find_spec("leaflet").origin).resolve().parent  # type: ignore[union-attr,arg-type]


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_hosts("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
refuse_unsafe_production(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# The absolute address of the site, for links in emails and Open311 media_url outside a request.
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "civic311.admin_site.StaffAdminConfig",  # django.contrib.admin with our admin.site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "axes",
    "captcha",
    "allauth",
    "allauth.account",
    "accounts",
    "departments",
    "places",
    "reports",
    "adoptions",
    "reports.insights",
]

MIDDLEWARE = [
    # First, so that every answer of an open-data read carries the CORS headers, errors too.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "civic311.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CsrfViewMiddleware, the first to read the body: NUL in the address and bodies
    # over the limits get a clear answer (civic311/input.py).
    "civic311.input.InputGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A signed-in person's pages: private, no-store unless the view says otherwise.
    "civic311.http_cache.SignedInPagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "civic311.urls"
WSGI_APPLICATION = "civic311.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", LEAFLET_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civic311.context_processors.city",
            ],
            "libraries": {"leaflet_tags": "leaflet.templatetags.leaflet_tags"},
        },
    },
]

DATABASES = {
    # Persistent connections: opening one costs a PostgreSQL backend start (a few ms of
    # every request otherwise); a health check (env_database) replaces one the server dropped.
    "default": env_database(
        "DATABASE_URL",
        f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The covering indexes' INCLUDE columns are PostgreSQL's; SQLite's indexes work without
    # them, and the warning on every migrate looked like a fault to a newcomer.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

# django-axes first: it refuses a locked-out username+address before any password is checked.
# Then staff's username sign-in (the admin), then citizens' email sign-in (allauth).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en-us")
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static", LEAFLET_DIR / "static"]
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# WhiteNoise's default follows DEBUG at start-up, which the test runner turns off: it would
# then warn (an error under filterwarnings=error) that STATIC_ROOT was never collected.
WHITENOISE_AUTOREFRESH = DEBUG
# Photos may be 10 MB each and a report carries three; keep headroom for the form fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Accounts (README "Accounts"): citizens and volunteers sign in with their email address
# (django-allauth, pages under /accounts/); staff sign in to the admin with their username.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:home"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "signup": "accounts.forms.SignupForm",
    "login": "accounts.forms.LoginForm",
    "reauthenticate": "accounts.forms.ReauthenticateForm",
    "change_password": "accounts.forms.ChangePasswordForm",
}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# Nobody signs in before proving the address is theirs.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# A code goes through the outbox; leave room for a delivery that waits for the sweep.
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 10 * 60
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Mail only addresses that have an account: a stranger's address typed into "forgot password"
# or "send me a code" gets nothing (the page still says a message was sent).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# A changed or reset password, an added or removed address: the owner is told by email.
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Greetings name people by their public display name, never their email or username.
ACCOUNT_USER_DISPLAY = "accounts.profiles.display_name_for"
ACCOUNT_SESSION_REMEMBER = None
# The outbox adds the city's prefix to every subject.
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https:") else "http"
# allauth's own rate limits (sign-in failures, codes, password resets, sign-ups) stay on with
# their defaults; they count in the cache like ours.
# Where account emails are recorded: the outbox's entry point, found by name so that the
# accounts app imports no app above it.
CIVIC311_OUTBOX_ADD = "reports.outbox.outbox_add"

# CORS: reads of open data only (the Open311 API's GETs, /data/ downloads, /data.json), from
# any origin; decided per request by civic311.cors.open_data_reads, so no URL is opened by
# pattern alone (the pattern below matches nothing).
CORS_URLS_REGEX = r"(?!)"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_ALLOW_HEADERS = ("accept", "accept-language", "if-modified-since", "if-none-match")
# Link: the Open311 list's next page (cursor paging); a browser hides any header not named here.
CORS_EXPOSE_HEADERS = ("Content-Disposition", "Link", "Retry-After")

# --- Abuse: rate limits, login lockout, honeypot, CSP (README "Security and privacy").
CACHES = {"default": env_cache("CACHE_URL")}
# How many reverse proxies (nginx, a load balancer) stand in front of Django and append to
# X-Forwarded-For. 0: the client is REMOTE_ADDR and X-Forwarded-For is ignored, since any
# client can send one. Set it to the exact count, never more.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
RATELIMIT_CACHE = "default"
# Per client address (IPv6 per /64). Every POST counts, a refused one too.
RATELIMIT_REPORT_FORM = env_rate("RATELIMIT_REPORT_FORM", "10/hour")
RATELIMIT_FOLLOW = env_rate("RATELIMIT_FOLLOW", "10/hour")
RATELIMIT_COMMENT = env_rate("RATELIMIT_COMMENT", "10/hour")
RATELIMIT_FOLLOWUP = env_rate("RATELIMIT_FOLLOWUP", "30/hour")
# A follower's confirmation link works this many days; unconfirmed, the subscription is then
# deleted (daily job).
SUBSCRIPTION_CONFIRM_DAYS = env_int("SUBSCRIPTION_CONFIRM_DAYS", 7, minimum=1)
RATELIMIT_ALERT_FORM = env_rate("RATELIMIT_ALERT_FORM", "10/hour")
# Adopting, releasing and logging care visits (per address; volunteers are signed in too).
RATELIMIT_ADOPTION_FORM = env_rate("RATELIMIT_ADOPTION_FORM", "30/hour")
# Address searches and lookups from the report form's script (each keystroke pause is one).
RATELIMIT_PLACES = env_rate("RATELIMIT_PLACES", "600/hour")
# A signed-in person's profile and account-deletion forms.
RATELIMIT_ACCOUNT_FORM = env_rate("RATELIMIT_ACCOUNT_FORM", "30/hour")
# Open311 POST requests: per API key (an app files for all its users) and per address.
RATELIMIT_OPEN311_POST_KEY = env_rate("RATELIMIT_OPEN311_POST_KEY", "300/hour")
RATELIMIT_OPEN311_POST_ADDRESS = env_rate("RATELIMIT_OPEN311_POST_ADDRESS", "60/hour")

# django-axes: after AXES_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is locked out for AXES_COOLOFF_MINUTES (admin login; any login form that goes
# through django.contrib.auth.authenticate with the request).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "civic311.ratelimit.client_ip"
# Staff sign in with a username, citizens with an email address: both are "the username".
AXES_USERNAME_CALLABLE = "civic311.security.login_username"
AXES_LOCKOUT_CALLABLE = "civic311.security.login_locked_out"
AXES_VERBOSE = False
# Keep failed attempts only: a row per successful staff login (address, browser) is personal
# data nobody asked for.
AXES_DISABLE_ACCESS_LOG = True

# Citizen forms carry a honeypot field (civic311/forms.py). CAPTCHA_ENABLED adds a CAPTCHA
# (django-simple-captcha: images made here) to the report and follow forms; off by default,
# since a picture shuts out people who cannot see it. A report form may take a while to fill.
CAPTCHA_ENABLED = env_bool("CAPTCHA_ENABLED", False)
CAPTCHA_TIMEOUT = 30  # minutes
CAPTCHA_FLITE_PATH = env_str("CAPTCHA_FLITE_PATH", "") or None  # an audio version, if installed

# Email: EMAIL_URL such as smtp://user:pass@host:587/?tls=True; console output by default.
_email = env_email("EMAIL_URL", "console://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
# file:////absolute/dir writes each message to a file there instead (CI's real worker).
EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
DEFAULT_FROM_EMAIL = env_from_email("DEFAULT_FROM_EMAIL", "Civic311 <noreply@civic311.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A mail server that hangs must not hold a worker (and the outbox row's lock) for ever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)

# Celery: with no broker configured every task runs in-process, right after the commit.
_broker = env_broker("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = _broker is None
# In eager mode nothing is sent; the in-memory transport keeps kombu from looking for a server.
CELERY_BROKER_URL = _broker or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A submission must never hang on a dead broker: give up publishing quickly, the sweeper
# task (and the citizen's saved report) make up for it.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Both sweeps make up for tasks lost while the broker was down (see reports/outbox.py).
    "process-pending-photos": {
        "task": "reports.tasks.photos_process_pending",
        "schedule": 60,
    },
    "outbox-deliver-due": {
        "task": "reports.tasks.outbox_deliver_due",
        "schedule": 60,
    },
    # Moderation moves a hidden photo's files out of the public folders at once; a move that
    # failed then is retried here.
    "sync-photo-files": {
        "task": "reports.tasks.photos_files_sync",
        "schedule": 5 * 60,
    },
    # Reports around an area drawn, redrawn or deleted, located again (queued at the change;
    # this catches a task lost while the broker was down).
    "relocate-reports": {
        "task": "reports.tasks.areas_relocate",
        "schedule": 5 * 60,
    },
    # Photos kept while a citizen corrected a report form that was then abandoned.
    "sweep-photo-drafts": {
        "task": "reports.tasks.photo_drafts_sweep",
        "schedule": 60 * 60,
    },
    # Uploads left by a submission that rolled back after its file was stored.
    "sweep-orphaned-uploads": {
        "task": "reports.tasks.orphaned_uploads_sweep",
        "schedule": crontab(hour=4, minute=40),
    },
    # Each department's managers get yesterday's new, overdue and closed reports at 7:00.
    "department-digests": {
        "task": "reports.tasks.send_department_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    # Follows never confirmed are deleted once their link has expired.
    "subscriptions-expire": {
        "task": "reports.tasks.subscriptions_expire",
        "schedule": crontab(hour=4, minute=0),
    },
    # Area alerts: new reports to "immediate" alerts every 5 minutes, digests at 7:30.
    "area-alerts-immediate": {
        "task": "reports.insights.tasks.alerts_immediate",
        "schedule": 5 * 60,
    },
    "area-alerts-daily": {
        "task": "reports.insights.tasks.alerts_daily",
        "schedule": crontab(hour=7, minute=30),
    },
    # Volunteers' care reminders and lapses (adoptions/services/reminders.py) at 8:00, and
    # care visit photos whose processing task was lost.
    "adoption-reminders": {
        "task": "adoptions.tasks.adoption_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "care-photos-pending": {
        "task": "adoptions.tasks.care_photos_process_pending",
        "schedule": 5 * 60,
    },
    # The open-data dump (CSV and GeoJSON of every public report), written at 3:15.
    "open-data-dump": {
        "task": "reports.insights.tasks.open_data_dump",
        "schedule": crontab(hour=3, minute=15),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Open311 chooses the format by the URL's .json/.xml only; no ?format= override.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Civic311 Open311 GeoReport v2 API",
    "DESCRIPTION": "Open311 GeoReport v2 endpoints of this city's 311 service.",
    "VERSION": "v2",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page must work offline: swagger-ui is vendored from npm into static/vendor/.
    "SWAGGER_UI_DIST": f"/{STATIC_URL.strip('/')}/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": f"/{STATIC_URL.strip('/')}/vendor/swagger-ui/favicon-32x32.png",
    # Only the Open311 API is documented (admin and pages are not DRF views anyway).
    "SCHEMA_PATH_PREFIX": "/open311/",
    # Open311 errors are lists of {code, description}, like its answers.
    "ENABLE_LIST_MECHANICS_ON_NON_2XX": True,
    # swagger-ui's deep links put a link inside each operation's toggle button, which
    # screen readers cannot operate (nested interactive controls).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
}

# The city this instance serves.
CITY_NAME = env_str("CITY_NAME", "Riverton")
CITY_CONTACT_EMAIL = env_str("CITY_CONTACT_EMAIL", "311@riverton.example.org")
OPEN311_JURISDICTION_ID = env_str("OPEN311_JURISDICTION_ID", "riverton.example.org")
MAP_CENTER = env_floats("MAP_CENTER", "35.7796,-78.6382", 2)  # latitude, longitude
MAP_ZOOM = env_int("MAP_ZOOM", 13, minimum=3, maximum=19)  # LEAFLET_CONFIG's range
# south, west, north, east: reports outside this box are refused.
MAP_BOUNDS = env_floats("MAP_BOUNDS", "35.70,-78.78,35.88,-78.50", 4)
MAP_TILE_URL = env_str("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "&copy; OpenStreetMap contributors")
map_area(center=MAP_CENTER, bounds=MAP_BOUNDS)

# Content-Security-Policy: no inline script or style anywhere, so no 'unsafe-inline'.
# Map tiles may come from another host (MAP_TILE_URL), photos too (an absolute MEDIA_URL);
# blob: is the report form's photo previews, data: the icons inside Leaflet's CSS.
_img_sources = [SELF, "data:", "blob:"]
for _url in (MAP_TILE_URL, MEDIA_URL):
    _origin = url_origin(_url)
    if _origin and _origin not in _img_sources:
        _img_sources.append(_origin)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": _img_sources,
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Where browsers POST violation reports (any collector you run); unset: none are sent.
if CSP_REPORT_URI := env_str("CSP_REPORT_URI", ""):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [CSP_REPORT_URI]
# Only what the site uses: the report form's "Use my location".
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(self), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": MAP_CENTER,
    "DEFAULT_ZOOM": MAP_ZOOM,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    "TILES": [("Map", MAP_TILE_URL, {"attribution": MAP_TILE_ATTRIBUTION, "maxZoom": 19})],
    "RESET_VIEW": False,
}

# Open data (/data/, /data.json): the licence every download is published under, who
# publishes it, and where the nightly dump is written (served by /data/dumps/).
OPEN_DATA_LICENSE_NAME = env_str("OPEN_DATA_LICENSE_NAME", "Open Data Commons PDDL 1.0")
OPEN_DATA_LICENSE_URL = env_str(
    "OPEN_DATA_LICENSE_URL", "https://opendatacommons.org/licenses/pddl/1-0/"
)
OPEN_DATA_PUBLISHER = env_str("OPEN_DATA_PUBLISHER", f"City of {CITY_NAME}")
OPEN_DATA_ROOT = Path(env_str("OPEN_DATA_ROOT", str(MEDIA_ROOT / "open-data")))
# Federal agencies only (DCAT-US bureauCode "015:11" and programCode "015:001"); a city
# leaves them empty.
OPEN_DATA_BUREAU_CODE = env_str("OPEN_DATA_BUREAU_CODE", "")
OPEN_DATA_PROGRAM_CODE = env_str("OPEN_DATA_PROGRAM_CODE", "")
# Below this many closed reports a response time is labelled a small sample, not ranked.
INSIGHTS_MIN_SAMPLE = env_int("INSIGHTS_MIN_SAMPLE", 10, minimum=1)
# Dashboard and hotspot figures are cached this long per set of filters (0: never).
INSIGHTS_CACHE_SECONDS = env_int("INSIGHTS_CACHE_SECONDS", 300, minimum=0)

# Adoptions: how many assets one volunteer may look after at once; how many days before a
# care visit is due the reminder goes out; after how many missed care periods an adoption
# lapses (the asset becomes available again).
ADOPTION_LIMIT_PER_VOLUNTEER = env_int("ADOPTION_LIMIT_PER_VOLUNTEER", 5, minimum=1)
ADOPTION_REMINDER_DAYS_BEFORE = env_int("ADOPTION_REMINDER_DAYS_BEFORE", 3, minimum=0)
ADOPTION_LAPSE_AFTER_MISSED = env_int("ADOPTION_LAPSE_AFTER_MISSED", 2, minimum=1)

# Photo limits for uploads from the web form and the Open311 API.
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 40_000_000, minimum=1)
PHOTO_MAX_PER_REPORT = 3
# A whole request body, photos included: a report's photos at their limit plus its form
# data. Anything larger is refused before it is read (civic311/input.py); a reverse proxy
# in front should refuse it even earlier (nginx: client_max_body_size).
MAX_REQUEST_BYTES = PHOTO_MAX_PER_REPORT * PHOTO_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE

# After the web form, the reporter sees the report as it will be published and may edit
# the text or remove photos for this many minutes; it is public once they end (0: at once).
REPORT_PREVIEW_MINUTES = env_int("REPORT_PREVIEW_MINUTES", 10, minimum=0)
# How long the links of the "Is it fixed?" email work.
FIXED_QUESTION_MAX_AGE_DAYS = env_int("FIXED_QUESTION_MAX_AGE_DAYS", 30, minimum=1)

# The gazetteer (places): a pin's address is the nearest address point within this many
# metres. An external Nominatim-compatible geocoder (GEOCODER_URL, e.g.
# https://nominatim.example.org) is asked only when the city's own data has no answer.
PLACES_REVERSE_MAX_METRES = env_int("PLACES_REVERSE_MAX_METRES", 100, minimum=0)
GEOCODER_URL = env_url("GEOCODER_URL", "")
GEOCODER_TIMEOUT = env_int("GEOCODER_TIMEOUT", 4, minimum=1)

# "Already reported nearby" on the report form: open reports of the chosen category within
# this distance, made in the last this many days.
NEARBY_METRES = env_int("NEARBY_METRES", 50, minimum=0)
NEARBY_DAYS = env_int("NEARBY_DAYS", 90, minimum=0)

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_log_level("LOG_LEVEL", "WARNING")},
    # Django's own "django" logger has a console handler of its own (when DEBUG is on) and
    # also propagates to the root: every line would print twice. Let the root print it.
    # ("django.server", the runserver access log, keeps its own handler and no propagation.)
    "loggers": {"django": {"handlers": [], "propagate": True}},
}
