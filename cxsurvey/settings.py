"""Settings for cxsurvey, read from the environment (see .env.example for every variable).

Defaults give the embedded mode: SQLite in the project folder and Celery running tasks eagerly
when no broker is configured. Production sets DATABASE_URL and CELERY_BROKER_URL.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from cxsurvey import deploy

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.str("DJANGO_READ_DOT_ENV_FILE", default="") in {"1", "true", "yes", "on"}:
    environ.Env.read_env(BASE_DIR / ".env")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean strictly: an unknown spelling is a configuration error, never False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false")


DEBUG = env_bool("DEBUG", False)
# A development install (DEBUG=1 as configured; Django's test runner turns DEBUG off but not
# this): only then does seed_demo run unforced and give demo users guessable passwords.
DEVELOPMENT = DEBUG
# No usable default outside DEBUG: a production deploy must set its own key.
SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-only-key" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Before the admin, as django-modeltranslation asks (its admin classes patch the admin's).
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_celery_beat",
    "common",
    "surveys",
    "comments",
    "distribution",
    "linkage",
    "workspace",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "common.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Refusals on pages answer with the styled 403 page, logged without a traceback.
    "workspace.middleware.RefusalPageMiddleware",
    # After CSP, so it runs first on the way out: allows a branding logo's https origin.
    "common.middleware.BrandLogoSourceMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lock-out answer.
    "axes.middleware.AxesMiddleware",
]
# Benchmark instruments (cxsurvey/bench.py): a bare insert view and an SQL count header.
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)
if BENCH_ENDPOINTS:
    MIDDLEWARE.insert(0, "cxsurvey.bench.SqlCountMiddleware")

ROOT_URLCONF = "cxsurvey.urls"
WSGI_APPLICATION = "cxsurvey.wsgi.application"

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
                "common.context_processors.branding",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A kept connection is checked before reuse, so a restarted database costs no failed request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Concurrent writers (runserver threads, eager tasks) wait instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Celery: no broker configured means the embedded mode, where tasks run in-process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Connect and read timeout (seconds) of every Redis client on the request path (broker and
# cache): a Redis that accepts connections but never answers costs a request at most this
# long per attempt, and publishers then leave the work to the sweeps (common/broker.py).
BROKER_SOCKET_TIMEOUT = env.float("BROKER_SOCKET_TIMEOUT", default=0.5)
# After a failed publish a web process stops trying for this long (the sweeps catch up).
BROKER_BACKOFF_SECONDS = env.float("BROKER_BACKOFF_SECONDS", default=5.0)

# Shared by every web process whenever Redis is configured (throttles count across workers):
# CACHE_URL, else the Redis broker's server, else per-process memory (cxsurvey/deploy.py).
CACHES = {
    "default": deploy.cache_setting(
        cache_url=env.str("CACHE_URL", default=""),
        broker_url=CELERY_BROKER_URL,
        socket_timeout=BROKER_SOCKET_TIMEOUT,
    )
}

# Argon2 first; passwords stored with another listed hasher are upgraded at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# django-axes: AXES_FAILURE_LIMIT failed logins for one username from one address lock that
# pair out for AXES_COOLOFF_MINUTES (admin login and any login through Django's auth).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15.0) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The client address as the throttles read it (NUM_PROXIES hops back in X-Forwarded-For).
AXES_CLIENT_IP_CALLABLE = "common.net.client_address"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
# Fixed page texts: compiled catalogues in locale/ (committed, so nothing compiles at start).
LOCALE_PATHS = [BASE_DIR / "locale"]
# Survey texts per language (django-modeltranslation, surveys/translation.py): one column per
# language in LANGUAGES; an empty translation shows the English text, else any other one (a
# text written while another language was active is never shown empty).
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = tuple(code for code, _ in LANGUAGES)
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# People log in to the workspace and land on their role's home (workspace.roles.home_url).
LOGIN_URL = "workspace:login"
LOGIN_REDIRECT_URL = "workspace:home"
LOGOUT_REDIRECT_URL = "workspace:login"
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# HTTPS (README "Production"): on by default outside DEBUG. Behind a TLS proxy set
# SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto=https (and make the proxy set that header).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = deploy.proxy_ssl_header(env.str("SECURE_PROXY_SSL_HEADER", default=""))
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts and styles only from this site's static
# files, no inline script or style. Data for scripts travels in json_script elements
# (type="application/json", which is data, not script).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# A submission must not hang when the broker is down: fail fast, the cell stays dirty.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
# No publish retries: a failed send is logged and left to the sweeps (common/broker.py).
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = deploy.broker_transport_options(
    socket_timeout=BROKER_SOCKET_TIMEOUT
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Reminder and pulse-wave schedules live in the database (django-celery-beat), editable in the
# admin; the fixed sweeps below are copied there when beat starts.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# While submissions keep arriving, a cell is recomputed at most once per this many seconds.
SCORE_RECOMPUTE_INTERVAL = env.float("SCORE_RECOMPUTE_INTERVAL", default=2.0)
# A recompute queued this long ago and not finished is queued again by the sweep (its worker
# may have died). Recomputes are idempotent, so a too-short value costs CPU, never accuracy.
SCORE_TASK_LOST_AFTER = env.float("SCORE_TASK_LOST_AFTER", default=300.0)
CELERY_BEAT_SCHEDULE = {
    "recompute-dirty-score-cells": {
        "task": "surveys.tasks.recompute_dirty_cells_task",
        "schedule": env.float("DIRTY_CELL_SWEEP_SECONDS", default=60.0),
    },
    "release-due-employee-results": {
        "task": "surveys.tasks.release_due_results_task",
        "schedule": env.float("RELEASE_SWEEP_SECONDS", default=900.0),
    },
    "requeue-stalled-webhooks": {
        "task": "surveys.tasks.requeue_stalled_webhooks_task",
        "schedule": 600.0,
    },
    "delete-expired-idempotency-records": {
        "task": "common.tasks.delete_expired_idempotency_records_task",
        "schedule": 3600.0,
    },
    "requeue-stalled-linkage-runs": {
        "task": "linkage.tasks.requeue_stalled_linkage_runs_task",
        "schedule": 300.0,
    },
    "apply-retention-daily": {
        "task": "surveys.tasks.apply_retention_task",
        "schedule": 24 * 3600.0,
    },
    "queue-due-comment-theme-runs": {
        "task": "comments.tasks.queue_due_theme_runs_task",
        "schedule": env.float("COMMENT_THEMES_SWEEP_SECONDS", default=3600.0),
    },
    "refresh-expectation-status-daily": {
        "task": "linkage.tasks.refresh_expectation_statuses_task",
        "schedule": 24 * 3600.0,
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cxsurvey.api_errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "public_submit": env.str("PUBLIC_SUBMIT_RATE", default="60/minute"),
    },
    # Reverse proxies in front of the app; throttles count the client address that many hops
    # back in X-Forwarded-For. 0 counts REMOTE_ADDR only: unset, DRF would trust the whole
    # header, and a client could dodge the public rate by sending a new address each time.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
# A bulk request of 10,000 responses is a few MB of JSON; larger bodies are refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("API_MAX_BODY_BYTES", default=32 * 1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "cxsurvey API",
    "DESCRIPTION": "Surveys, submissions, scores and service-profit-chain linkage.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ loads Swagger UI from this app's static files, not a CDN (works offline).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SurveyStatusEnum": "surveys.models.Survey.Status",
        "LinkageRunStatusEnum": "linkage.models.LinkageRun.Status",
        "OutcomeImportStatusEnum": "linkage.models.OutcomeImport.Status",
        "ExpectationStatusEnum": "linkage.models.PerformanceExpectation.Status",
        "UnitLevelEnum": "surveys.models.OrgUnit.Level",
        "MetricLevelEnum": "surveys.models.Metric.Level",
    },
}

# Retention (days; 0 keeps): free-text answers, and personal identifiers of responses plus
# invitations (contacts), are erased once older than this by a daily task. Scores stay.
RETENTION_FREE_TEXT_DAYS = env.int("RETENTION_FREE_TEXT_DAYS", default=0)
RETENTION_PERSONAL_DATA_DAYS = env.int("RETENTION_PERSONAL_DATA_DAYS", default=0)

# Webhooks to loopback, link-local and private addresses are refused (when a subscription is
# saved and before each delivery) unless this is on: a subscriber on the same private network.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)

# Employee results below this many respondents are never shown (a survey may raise it).
DEFAULT_EMPLOYEE_ANONYMITY_THRESHOLD = env.int("DEFAULT_EMPLOYEE_ANONYMITY_THRESHOLD", default=5)
# Open comments of employee and anonymous surveys: shown only for groups (answering unit ×
# release) of at least this many respondents; separate from the score threshold.
COMMENT_MIN_RESPONDENTS = env.int("COMMENT_MIN_RESPONDENTS", default=10)
# Bounds of the number of themes a theme run chooses from the data (comments.services).
COMMENT_THEMES_MIN = env.int("COMMENT_THEMES_MIN", default=5)
COMMENT_THEMES_MAX = env.int("COMMENT_THEMES_MAX", default=12)
# Answers through an employee survey's public link (when switched on), per survey and period:
# at most this many from one client address, and one per browser (a signed cookie).
EMPLOYEE_PUBLIC_ANSWERS_PER_ADDRESS = env.int("EMPLOYEE_PUBLIC_ANSWERS_PER_ADDRESS", default=10)
# Answers through a customer survey's public link per client address, survey and round,
# unless the survey sets its own (0: no limit). The page also takes one answer per browser.
PUBLIC_ANSWERS_PER_ADDRESS = env.int("PUBLIC_ANSWERS_PER_ADDRESS", default=20)
# The address respondents reach the site at, for personal links in exports and e-mails.
# Unset: the address of the request that issues them (admin, API), and for work without a
# request (scheduled reminders and waves) the address the invitations were first sent with.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")

# E-mail: printed to the console unless EMAIL_URL names a server, e.g.
# smtp+tls://user:password@smtp.example.com:587 (django-environ's email_url).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
EMAIL_HOST = EMAIL_CONFIG.get("EMAIL_HOST", "localhost")
EMAIL_PORT = EMAIL_CONFIG.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = EMAIL_CONFIG.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_CONFIG.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_CONFIG.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = EMAIL_CONFIG.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="surveys@localhost")
# Invitations per e-mail task; each task opens one connection to the mail server.
EMAIL_BATCH_SIZE = env.int("EMAIL_BATCH_SIZE", default=100)
# Follow-up cases for detractors and low CSAT: hours to close, and the CSAT (1–5) at or below
# which a case opens.
FOLLOW_UP_SLA_HOURS = env.int("FOLLOW_UP_SLA_HOURS", default=48)
FOLLOW_UP_CSAT_MAX = env.int("FOLLOW_UP_CSAT_MAX", default=2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
