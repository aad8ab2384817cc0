"""Settings for `make run` on a workstation: embedded SQLite and filesystem broker unless the
environment names PostgreSQL or Redis."""
from .base import *  # noqa: F401,F403
from .base import SECRET_KEY, VAR_DIR, env, env_list

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "local-only-not-secret"  # make run writes a real one into .env

VAR_DIR.mkdir(exist_ok=True)  # holds the embedded SQLite database and the Celery folders
# Static files straight from the apps and packages, also when DJANGO_DEBUG is off locally.
WHITENOISE_USE_FINDERS = True
# The sandbox store `make run` starts listens on the loopback address over plain http.
ITBC_API_URL_ALLOWLIST = env_list("ITBC_API_URL_ALLOWLIST", default=["http://127.0.0.1", "http://localhost"])
