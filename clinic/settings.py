"""Settings, read from the environment (see .env.example and docs/CONFIGURATION.md).

One module serves development, tests and production: production is simply
``DJANGO_DEBUG=false`` with a real secret key, and then every secure default
is on, so ``manage.py check --deploy`` passes without a second settings file.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from clinic import api_settings
from clinic.environment import (
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_int_list,
    env_list,
    env_redis,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is unset: production (DJANGO_DEBUG=false) needs a long random key."
        )
    SECRET_KEY = "dev-only-insecure-key-for-local-use-never-in-production-0123456789"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# HTTPS hardening is on in production; tests and plain-HTTP local runs turn it
# off with DJANGO_HTTPS=false rather than by switching DEBUG on.
HTTPS = env_bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp), in every mode so a violation shows up
# in development too. Scripts only from this site: the pages keep their
# JavaScript in static files (no inline scripts, no eval). Styles allow
# inline because the day board places each block with a style attribute
# (grid row and span) and htmx adds its indicator style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
SESSION_COOKIE_HTTPONLY = True
# Treatment-room screens are shared: an idle session ends after this many minutes.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 15, minimum=1) * 60
# Not Django's save-every-request: clinic.idle_sessions refreshes the expiry on
# every request a person makes, but not on the board's background polling, so
# a screen left open does not stay signed in forever.
SESSION_SAVE_EVERY_REQUEST = False
# A user who opens more than this many different patients' records within the window is shown to managers
# (the access log and the manager's home): a chart is read for care, not browsed.
UNUSUAL_ACCESS_RECORDS = env_int("UNUSUAL_ACCESS_RECORDS", 30, minimum=1)
UNUSUAL_ACCESS_MINUTES = env_int("UNUSUAL_ACCESS_MINUTES", 60, minimum=1)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "pgtrigger",
    "pghistory",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "drf_spectacular_sidecar",
    "clinic",
    "patients",
    "protocols",
    "scheduling",
]

MIDDLEWARE = [
    "clinic.health.HealthCheckMiddleware",
    # Before anything reads a body: one larger than DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, JSON included.
    "clinic.request_limits.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: ends idle sessions, then knows whether the session passed two-factor.
    "clinic.idle_sessions.IdleSessionMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # Last, so it sees the authenticated user and can turn lockouts into a page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

_database = env_database("DATABASE_URL")
if _database is None:
    raise ImproperlyConfigured(
        "DATABASE_URL is unset. Use `make run` / `make test`, which start an embedded "
        "PostgreSQL and set it, or point it at a server: postgres://postgres@127.0.0.1:5432/clinic"
    )
_database.setdefault("CONN_MAX_AGE", env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
_database["CONN_HEALTH_CHECKS"] = True
_database.setdefault("OPTIONS", {})
# A slow query must not hold a request (or a booking lock) forever.
_database["OPTIONS"].setdefault(
    "options", f"-c statement_timeout={env_int('DATABASE_STATEMENT_TIMEOUT_MS', 30000, minimum=0)}"
)
# Connection pooling in each process (Django's psycopg pool): DATABASE_POOL=N keeps up to N open
# connections that the process's threads (gunicorn gthread, Celery threads) take in turn, instead of
# one persistent connection per thread. 0, the default, leaves pooling off.
DATABASE_POOL = env_int("DATABASE_POOL", 0, minimum=0)
if DATABASE_POOL:
    _database["OPTIONS"]["pool"] = {
        "min_size": 1, "max_size": DATABASE_POOL, "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
    }
    _database["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django refuses both at once
DATABASES = {"default": _database}
# The dashboard reads its figures on this many connections at once, one snapshot (scheduling/reports/reading.py).
REPORT_READERS = env_int("REPORT_READERS", 2, minimum=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis("REDIS_URL")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Two-factor sign-in (django-otp, TOTP): optional for anyone who sets up an
# authenticator at /account/two-factor/; required for these roles.
TOTP_REQUIRED_ROLES = env_list("TOTP_REQUIRED_ROLES", [])
if set(TOTP_REQUIRED_ROLES) - {"front_desk", "clinician", "manager"}:
    raise ImproperlyConfigured("TOTP_REQUIRED_ROLES: use front_desk, clinician and/or manager, comma-separated.")
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failed logins, web and API alike (django-axes).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# Lock by username only: a clinic's desks share one public address, so locking
# by address would lock every colleague out with one person's typos. Guessing
# from many addresses is still stopped per account, and the token endpoint is
# throttled per address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_LOCKOUT_CALLABLE = "clinic.errors.lockout_response"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # No manifest: pages render without a collectstatic step (tests, `make run`);
    # the container image still runs collectstatic so WhiteNoise serves compressed files.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

# The API (DRF, and its OpenAPI schema): clinic/api_settings.py.
REST_FRAMEWORK = api_settings.REST_FRAMEWORK
SPECTACULAR_SETTINGS = api_settings.SPECTACULAR_SETTINGS

# The clinic as patients know it: the only identity a reminder text carries.
CLINIC_NAME = env_str("CLINIC_NAME", "Riverside Wellness Clinic")
CLINIC_PHONE = env_str("CLINIC_PHONE", "+15555550100")
# The name authenticator apps show beside the six-digit code.
OTP_TOTP_ISSUER = CLINIC_NAME

# Bookings checked against prior authorisations: "all", or "entered" (courses with one entered: while adopting).
PRIOR_AUTHORISATION_CHECKS = env_choice("PRIOR_AUTHORISATION_CHECKS", "all", ("all", "entered"))

SMS_BACKEND = env_choice("SMS_BACKEND", "outbox", ("outbox", "locmem", "twilio"))
# Twilio: required for SMS_BACKEND=twilio. The auth token also signs the
# inbound and status webhooks, whatever the backend, so set it everywhere
# the webhooks are reachable.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "dev-webhook-token" if SMS_BACKEND != "twilio" else "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_API_BASE = env_str("TWILIO_API_BASE", "")
TWILIO_TIMEOUT_SECONDS = env_int("TWILIO_TIMEOUT_SECONDS", 10, minimum=1)
if SMS_BACKEND == "twilio":
    _missing = [name for name, value in (("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID),
                                         ("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN)) if not value]
    if not (TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID):
        _missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
    if _missing:
        raise ImproperlyConfigured(f"SMS_BACKEND=twilio needs {', '.join(_missing)}.")
# The public address of this system, for provider status callbacks (e.g. https://clinic.example.org).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "")
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "US")
MIN_PATIENT_AGE = env_int("MIN_PATIENT_AGE", 18, minimum=0)
# A course is "due, not booked" on the worklist this many days before its window opens.
WORKLIST_DUE_SOON_DAYS = env_int("WORKLIST_DUE_SOON_DAYS", 3, minimum=0)
# Days past a window's latest day after which a course is lapsed.
COURSE_LAPSE_AFTER_DAYS = env_int("COURSE_LAPSE_AFTER_DAYS", 14, minimum=1)

# Celery: the broker is Redis, or with REDIS_URL unset a filesystem transport
# so `make run` needs no server. JSON only, late acks, one task at a time per
# worker process, so a crashed worker's task is redelivered, never lost.
CELERY_BROKER_DIR = BASE_DIR / ".broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "queue_order_strategy": "priority"}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),  # else kombu makes ./control wherever it runs
        "store_processed": False,
    }
# An explicit broker URL wins (the test run uses memory://, so unit tests
# never leave messages in a shared Redis; integration tests start real workers).
if env_str("CELERY_BROKER_URL"):
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the database connection after every task unless this is set; with it,
# after this many tasks, and clinic/celery.py keeps or drops connections by DATABASE_CONN_MAX_AGE and
# their health, as for a web request: a text no longer pays for a new PostgreSQL connection.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 90, minimum=1)
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Two queues, so a backlog of background work never delays a text. ``texts``: the reminder sweep,
# every send and the reaper; ``background``: worklist refreshes and housekeeping. On Redis a worker
# started with ``-Q texts,background`` always takes a waiting text first ("priority" above: the
# queues are tried in the order given, not in turn); compose and ``make run`` also run workers that
# serve texts only (docs/DEPLOYMENT.md "Queues and timeliness").
TEXTS_QUEUE, BACKGROUND_QUEUE = "texts", "background"
CELERY_TASK_DEFAULT_QUEUE = BACKGROUND_QUEUE
CELERY_TASK_ROUTES = {
    "scheduling.sweep_reminders": {"queue": TEXTS_QUEUE},
    "scheduling.send_*": {"queue": TEXTS_QUEUE},
    "scheduling.reap_reminders": {"queue": TEXTS_QUEUE},
    "scheduling.end_offers": {"queue": TEXTS_QUEUE},
    "scheduling.plan_offers": {"queue": TEXTS_QUEUE},
}
# How many due texts (of each kind) one sweep claims. A sweep that claims a full batch publishes
# itself again behind the sends it published, so the sweeps keep pace with however many text
# workers drain the queue; about 4 per text-worker process keeps them all busy between sweeps.
TEXT_CLAIM_BATCH = env_int("TEXT_CLAIM_BATCH", 32, minimum=1)
# Beat's sweep: how often due texts are looked for when nothing else prompts a sweep.
TEXT_SWEEP_SECONDS = env_int("TEXT_SWEEP_SECONDS", 10, minimum=1)
# The provider's own limit: texts a second from each sending number (a US long code on 10DLC is
# often 1-4, toll-free 3, a short code 100), and how many numbers send (a Twilio Messaging
# Service's pool; 1 with TWILIO_FROM_NUMBER). Every worker takes its turn from one schedule in
# PostgreSQL, so the sum over all workers stays under SMS_RATE_PER_NUMBER x SMS_SENDING_NUMBERS.
SMS_RATE_PER_NUMBER = env_int("SMS_RATE_PER_NUMBER", 100, minimum=1)
SMS_SENDING_NUMBERS = env_int("SMS_SENDING_NUMBERS", 1, minimum=1)
# A send task's time limit, which bounds its wait for a turn, for the session's lock and the
# provider's answer (TWILIO_TIMEOUT_SECONDS). A claimed text (queued or sending) whose claim is
# older than the lease belongs to a worker that died or a publish that was lost: the reaper
# recovers it. The lease ends shortly after the time limit, so no live send is ever reaped.
TEXT_SEND_TIME_LIMIT = env_int("TEXT_SEND_TIME_LIMIT", max(30, TWILIO_TIMEOUT_SECONDS + 20), minimum=5)
if TEXT_SEND_TIME_LIMIT < TWILIO_TIMEOUT_SECONDS + 10:
    raise ImproperlyConfigured(f"TEXT_SEND_TIME_LIMIT ({TEXT_SEND_TIME_LIMIT}) must be at least "
                               f"TWILIO_TIMEOUT_SECONDS + 10 ({TWILIO_TIMEOUT_SECONDS + 10}).")
TEXT_CLAIM_LEASE_SECONDS = TEXT_SEND_TIME_LIMIT + 15
TEXT_REAP_SECONDS = max(5, TEXT_CLAIM_LEASE_SECONDS // 3)
# A text the provider refused for now (429, 5xx, no connection: nothing was sent) goes back to
# pending and is tried again after the provider's Retry-After when it sends one, else after the
# next of TEXT_RETRY_SECONDS (the last repeats), give or take TEXT_RETRY_JITTER_PERCENT so a burst of
# refusals does not come back at once; never more than TEXT_RETRY_MAX_SECONDS. It fails after
# TEXT_SEND_ATTEMPTS tries (the defaults keep trying for about 14 minutes); a try that would come
# less than the policy's lead time before the visit is skipped as too late.
TEXT_RETRY_SECONDS = env_int_list("TEXT_RETRY_SECONDS", [5, 15, 30, 60, 120, 300], minimum=0)
TEXT_RETRY_MAX_SECONDS = env_int("TEXT_RETRY_MAX_SECONDS", 600, minimum=1)
TEXT_RETRY_JITTER_PERCENT = env_int("TEXT_RETRY_JITTER_PERCENT", 20, minimum=0)
TEXT_SEND_ATTEMPTS = env_int("TEXT_SEND_ATTEMPTS", 8, minimum=1)
if TEXT_RETRY_JITTER_PERCENT > 100:
    raise ImproperlyConfigured(f"TEXT_RETRY_JITTER_PERCENT={TEXT_RETRY_JITTER_PERCENT} must be at most 100.")
# Freed chairs (docs/OFFERS.md): a cancel or move at least this many hours ahead frees a time worth offering;
# so many patients are offered it at once; an offer ends OFFER_MINUTES after it was sent or OFFER_STALE_HOURS
# before the time, whichever is first (and none is sent for a time closer than that); beat ends them.
FREED_CHAIR_MIN_NOTICE_HOURS = env_int("FREED_CHAIR_MIN_NOTICE_HOURS", 3, minimum=0)
OFFERS_AT_ONCE = env_int("OFFERS_AT_ONCE", 3, minimum=1)
OFFER_MINUTES = env_int("OFFER_MINUTES", 30, minimum=1)
OFFER_STALE_HOURS = env_int("OFFER_STALE_HOURS", 2, minimum=0)
OFFER_END_SECONDS = env_int("OFFER_END_SECONDS", 60, minimum=5)
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": TEXT_SEND_TIME_LIMIT - 5, "time_limit": TEXT_SEND_TIME_LIMIT}
    for name in ("scheduling.send_reminder", "scheduling.send_outreach", "scheduling.send_desk_text",
                 "scheduling.send_new_time", "scheduling.send_offer")
}
# Courses whose worklist items a booking change made stale are marked in PostgreSQL and refreshed
# together, this many at a time (scheduling/worklist/refresh_queue.py); beat's pass picks up any
# whose task a broker crash lost.
WORKLIST_REFRESH_BATCH = env_int("WORKLIST_REFRESH_BATCH", 200, minimum=1)
WORKLIST_REFRESH_SECONDS = env_int("WORKLIST_REFRESH_SECONDS", 30, minimum=1)
# The whole beat schedule, in one place. Beat runs once per deployment (a
# second beat would double every periodic sweep); workers scale freely.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Claim reminders (and outreach texts) that are due and enqueue their sends. No Celery ETA is
    # ever used for a reminder; a sweep with more due than a batch runs again at once by itself.
    "sweep-reminders": {"task": "scheduling.sweep_reminders", "schedule": TEXT_SWEEP_SECONDS},
    # Recover texts whose claim's lease ran out (a worker died, a publish was lost).
    "reap-reminders": {"task": "scheduling.reap_reminders", "schedule": TEXT_REAP_SECONDS},
    # End offers of freed times that ran out unanswered, and offer those times to the next patients.
    "end-offers": {"task": "scheduling.end_offers", "schedule": OFFER_END_SECONDS},
    # Courses marked by booking changes whose refresh task was lost (normally published on commit).
    "refresh-marked-worklists": {"task": "scheduling.refresh_marked_worklists",
                                 "schedule": WORKLIST_REFRESH_SECONDS},
    # Open and close worklist items for every active course (the facts also change with the clock).
    "refresh-worklist": {"task": "scheduling.refresh_worklist", "schedule": 60 * 60},
    # Web sessions expire after SESSION_IDLE_MINUTES; clear the dead rows nightly.
    "clear-expired-sessions": {"task": "clinic.clear_expired_sessions", "schedule": 24 * 60 * 60},
}
# A publish that cannot reach the broker gives up quickly: the booking has
# committed and the sweep and the reaper enqueue again.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"no_query_strings": {"()": "clinic.log_filters.NoQueryStrings"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # twilio logs every request (with numbers) at INFO: keep PHI out of the logs.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "twilio.http_client": {"level": "WARNING"},
                # The development server logs each request line: without the query (a patient search).
                "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False,
                                  "filters": ["no_query_strings"]}},
}
