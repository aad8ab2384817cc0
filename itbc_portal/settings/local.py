"""Settings for `make run` on a workstation: embedded SQLite and filesystem broker unless the
environment names PostgreSQL or Redis."""
from .base import *  # noqa: F401,F403
from .base import SECRET_KEY, STATIC_ROOT, VAR_DIR, env, env_list

# Off unless asked for (DJANGO_DEBUG=true): with it on, a 404 lists the URL patterns and a 500 shows the
# settings and local variables to whoever reaches the page.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = SECRET_KEY or "local-only-not-secret"  # make run writes a real one into .env

VAR_DIR.mkdir(exist_ok=True)  # holds the embedded SQLite database and the Celery folders
# The app serves static files itself (whitenoise), straight from the apps and packages, with DEBUG off
# too, so `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
# The sandbox store `make run` starts listens on the loopback address over plain http.
ITBC_API_URL_ALLOWLIST = env_list("ITBC_API_URL_ALLOWLIST", default=["http://127.0.0.1", "http://localhost"])
# Links in notification mails lead to this portal on this machine unless an address is set.
ITBC_PORTAL_URL = env("ITBC_PORTAL_URL", default="") or env("ITBC_PUBLIC_URL", default="") or (
    f"http://127.0.0.1:{env.int('ITBC_PORT', default=8000)}"
)
