"""Production settings: every secret must come from the environment; `manage.py check --deploy`
passes with them."""
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import ITBC_ENCRYPTION_KEYS, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY in the environment (see .env.example).")
if not ITBC_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "Set ITBC_ENCRYPTION_KEYS in the environment: the Fernet keys that encrypt store access tokens "
        "(see .env.example)."
    )
try:
    from cryptography.fernet import Fernet

    for _key in ITBC_ENCRYPTION_KEYS:
        Fernet(_key.encode())
except ValueError as _error:
    raise ImproperlyConfigured("ITBC_ENCRYPTION_KEYS holds a value that is not a Fernet key.") from _error
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
