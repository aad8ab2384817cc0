"""Test settings. PostgreSQL and Redis are used when reachable (DATABASE_URL / REDIS_URL, else the
127.0.0.1 defaults). Without them the suite falls back to SQLite and skips the Redis tests, loudly;
with CI=true a missing service is an error instead."""
import os
import socket
import sys
from urllib.parse import urlparse

from .base import *  # noqa: F401,F403
from .base import STATIC_ROOT, VAR_DIR, env

DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itbc"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
IN_CI = env.bool("CI", default=False)


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), timeout=1.5):
            return True
    except OSError:
        return False


def _fallback(service: str, url: str, consequence: str) -> None:
    message = f"{service} is not reachable at {url}: {consequence}"
    if IN_CI:
        raise RuntimeError(f"CI=true and {message}")
    banner = "!" * 78
    sys.stderr.write(f"\n{banner}\n!! {message}\n{banner}\n\n")


_database_url = os.environ.get("DATABASE_URL") or DEFAULT_TEST_DATABASE_URL
if _database_url.startswith("sqlite") or _reachable(_database_url):
    DATABASES = {"default": env.db_url_config(_database_url)}
else:
    _fallback("PostgreSQL", _database_url, "falling back to SQLite; PostgreSQL-only tests are skipped")
    DATABASES = {"default": env.db_url_config(f"sqlite:///{VAR_DIR / 'test.sqlite3'}")}

_redis_url = os.environ.get("REDIS_URL") or DEFAULT_TEST_REDIS_URL
if _reachable(_redis_url):
    REDIS_URL = _redis_url
else:
    _fallback("Redis", _redis_url, "the tests that need Redis are skipped")
    REDIS_URL = ""

ITBC_TEST_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
ITBC_TEST_REDIS = bool(REDIS_URL)

SECRET_KEY = "test-only-secret-key-that-is-long-enough-for-django-checks-0123456789"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ITBC_ENCRYPTION_KEYS = ["pOrB2m4q1XyVbq7J0F3b1s9rWz8e2nq5m6Kc7d8e9fA="]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = "memory://"
AXES_ENABLED = True
# The sandbox store and the recorded client tests answer on the loopback address over http.
ITBC_API_URL_ALLOWLIST = ["http://127.0.0.1", "http://localhost", "https://api.bigcommerce.test"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
