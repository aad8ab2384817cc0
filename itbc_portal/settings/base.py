"""Settings shared by every environment. Everything that differs between machines comes from the
environment (or a `.env` file beside manage.py); `.env.example` documents each variable."""
import importlib.util
from pathlib import Path

import environ
from celery.schedules import crontab  # noqa: F401  (kept importable for beat settings)
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma list; an empty variable (as in a copied .env.example) means the default."""
    values = [value for value in env.list(name, default=[]) if value]
    return values or default

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Fernet keys (comma separated, newest first) that encrypt store access tokens at rest.
ITBC_ENCRYPTION_KEYS = env_list("ITBC_ENCRYPTION_KEYS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "simple_history",
    "axes",
    "plugin.intellitrack",
    "plugin.configuration",
    "plugin.bigcommerce",
    "plugin.sync",
    "plugin.audit",
    "plugin.api",
    "plugin.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads the query string or the form body.
    "plugin.portal.middleware.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "plugin.portal.middleware.JobQueueErrorMiddleware",
]

ROOT_URLCONF = "itbc_portal.urls"
WSGI_APPLICATION = "itbc_portal.wsgi.application"

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
                "plugin.portal.context_processors.unacknowledged_failures",
            ],
        },
    },
]

DATABASES = {"default": env.db_url_config(env("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'itbc.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
# A lockout holds one username from one address: other users, and the same user elsewhere, still sign in.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The address comes from X-Forwarded-For only behind this many trusted proxies (0: the connecting address).
ITBC_TRUSTED_PROXY_COUNT = env.int("ITBC_TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "plugin.portal.client_address.client_address"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "configuration:store-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
_bootstrap = importlib.util.find_spec("bootstrap")
STATICFILES_DIRS = [BASE_DIR / "static"]
if _bootstrap and _bootstrap.submodule_search_locations:
    # Bootstrap's compiled CSS/JS ship in the `bootstrap-wrapper` package; served by the portal itself.
    STATICFILES_DIRS.append(("vendor/bootstrap", list(_bootstrap.submodule_search_locations)[0]))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# A refused form (CSRF) in the portal's look, saying what to do.
CSRF_FAILURE_VIEW = "plugin.portal.errors.csrf_failure"

# The technical 500 page must never show an access token held in a local variable.
DEFAULT_EXCEPTION_REPORTER_FILTER = "plugin.configuration.crypto.TokenSafeExceptionReporterFilter"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # API tokens are stored as a hash and listed by their first characters (django-rest-knox).
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "plugin.api.schema.ErrorDocumentingAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}
REST_KNOX = {"TOKEN_TTL": None, "AUTO_REFRESH": False, "AUTH_HEADER_PREFIX": "Token"}
SPECTACULAR_SETTINGS = {
    "TITLE": "itbc API",
    "DESCRIPTION": "IntelliTrack for BigCommerce: inventory, adjustments, picking orders and picks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc assets are served from the sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: Redis when REDIS_URL is set, else the embedded filesystem transport (one `worker -B`).
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_IGNORE_RESULT = True
# Tasks are idempotent (a run executes only from "queued"; End of Day levels are absolute), so a message
# is acknowledged after its task ends and redelivered if the worker dies; each worker process reserves
# one message at a time, so a long task never holds queued ones that another process could start.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# One queue per kind of work (plugin/sync/queues.py): eod, cycle, imports, and "celery" for the rest.
# Every worker consumes the queues named by its -Q; the embedded `worker -B` consumes all four.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = ("plugin.sync.queues.route_task",)
# Declared here so that a worker started without -Q (tests, a plain `celery worker`) consumes them all.
# Each on its own direct exchange and key, as Celery makes a queue a -Q names.
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in ("eod", "cycle", "imports", "celery")]
# The daily prune of run items older than this many days (plugin/sync/retention.py).
ITBC_RUN_ITEM_RETENTION_DAYS = env.int("ITBC_RUN_ITEM_RETENTION_DAYS", default=90)
# django-celery-beat's database scheduler, recording each tick for /healthz.
CELERY_BEAT_SCHEDULER = "plugin.portal.beat:HeartbeatDatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_FILESYSTEM_DIR = Path(env("CELERY_FILESYSTEM_DIR", default="") or VAR_DIR / "celery")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "store_processed": False,
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "plugin.configuration.crypto.RedactTokensFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Content-Security-Policy: scripts and styles from the portal itself only, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Store API base URLs: BigCommerce's API over https only, unless an origin is listed here
# (scheme://host, or scheme://host:port for one port), as for the sandbox store and the tests.
ITBC_API_URL_ALLOWLIST = env_list("ITBC_API_URL_ALLOWLIST", default=[])

# /healthz: beat is down when its last tick is older than this.
ITBC_HEALTH_BEAT_MAX_AGE_SECONDS = env.int("ITBC_HEALTH_BEAT_MAX_AGE_SECONDS", default=120)

# itbc behaviour
ITBC_EOD_GRACE_MINUTES = env.int("ITBC_EOD_GRACE_MINUTES", default=120)
# Email (notification mails), through any SMTP server: EMAIL_URL (smtp+tls://USER:PASSWORD@HOST:587) or
# EMAIL_HOST with EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS / EMAIL_USE_SSL. Neither:
# the console backend, which writes each mail to the log. An empty variable (a copied .env.example) is unset.
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
elif env("EMAIL_HOST", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("EMAIL_HOST")
    EMAIL_PORT = int(env("EMAIL_PORT", default="") or 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)  # TLS from the first byte (port 465)
    # STARTTLS (port 587): on unless EMAIL_USE_SSL is (the two exclude each other).
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS") if env("EMAIL_USE_TLS", default="") else not EMAIL_USE_SSL
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# A mail server that does not answer never holds a worker or a page for long.
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", default="") or 15)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="") or "itbc@localhost"
# At most one notification mail per store and cause in this many minutes; the next one counts the others.
ITBC_NOTICE_INTERVAL_MINUTES = int(env("ITBC_NOTICE_INTERVAL_MINUTES", default="") or 60)
# Optional: the portal's public https address; the auto sync cycle then registers order webhooks that start
# a cycle early (polling stays the truth).
ITBC_PUBLIC_URL = env("ITBC_PUBLIC_URL", default="")
# The address staff open the portal at, for the links in notification mails (blank: ITBC_PUBLIC_URL).
ITBC_PORTAL_URL = env("ITBC_PORTAL_URL", default="") or ITBC_PUBLIC_URL
# A running job's keeper thread renews its lock and heartbeat every quarter of these, whatever the job is
# doing; a run silent for longer (its worker died) is marked stale and its lock expires, so a rerun can
# start within about a minute.
ITBC_RUN_STALE_SECONDS = env.int("ITBC_RUN_STALE_SECONDS", default=45)
ITBC_RUN_LOCK_TTL_SECONDS = env.int("ITBC_RUN_LOCK_TTL_SECONDS", default=45)
# A run still queued after this long (no worker picked it up) is marked stale.
ITBC_RUN_QUEUED_STALE_SECONDS = env.int("ITBC_RUN_QUEUED_STALE_SECONDS", default=3600)
# A long run (End of Day) writes its progress and heartbeat at most this often, not once per batch.
ITBC_RUN_PROGRESS_SECONDS = float(env("ITBC_RUN_PROGRESS_SECONDS", default="") or 2)
# Dotted path of the IntelliTrack gateway class; the embedded IntelliTrack by default.
ITBC_INTELLITRACK_GATEWAY = env(
    "ITBC_INTELLITRACK_GATEWAY", default="plugin.intellitrack.gateway.EmbeddedGateway"
)
