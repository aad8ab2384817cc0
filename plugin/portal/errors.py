"""The portal's own 403, 404 and 500 pages, in its look (itbc_portal/urls.py points Django's handlers here,
and CSRF_FAILURE_VIEW the refused-form page).

The 404 stays JSON under /api/, as the API's schema documents its 404s. The 500 page is rendered without
the request and without a database, since either may be what failed."""
import logging

from django.contrib.auth import get_user_model
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from plugin.configuration.roles import ADMIN, OPERATOR, VIEWER

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
ROLES = (ADMIN, OPERATOR, VIEWER)
# Served when even 500.html cannot be rendered (a broken template or static file manifest).
PLAIN_SERVER_ERROR = (
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Server error · itbc</title></head>"
    "<body><h1>Something went wrong on our side</h1><p>The error was logged. Try again in a moment; if it "
    "stays, tell whoever runs this portal what you were doing.</p></body></html>"
)


def _exception_message(exception) -> str:
    """The message of a 403/404 raised on purpose ("No such store."); never the resolver's list of the URL
    patterns it tried, which it passes as a dict."""
    args = getattr(exception, "args", ())
    return args[0] if args and isinstance(args[0], str) else ""


def _role_granter_exists() -> bool:
    """Whether anyone can give a role (an active superuser: users and groups live in the admin). Only
    whether: the page does not name administrators to an account that has no role."""
    return get_user_model().objects.filter(is_active=True, is_superuser=True).exists()


@requires_csrf_token
def page_not_found(request, exception):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    context = {"request_path": request.path, "message": _exception_message(exception)}
    return render(request, "404.html", context, status=404)


@requires_csrf_token
def permission_denied(request, exception):
    user = request.user
    has_role = user.is_authenticated and (user.is_superuser or user.groups.filter(name__in=ROLES).exists())
    context = {
        "message": _exception_message(exception),
        "no_role": user.is_authenticated and not has_role,
        "roles": ROLES,
    }
    if context["no_role"]:
        context["granter_exists"] = _role_granter_exists()
    return render(request, "403.html", context, status=403)


@requires_csrf_token
def csrf_failure(request, reason=""):
    """A form sent without its CSRF token or cookie: mostly a page left open past a sign-in or sign-out."""
    context = {
        "message": "This form has expired, or your browser did not send its cookie. Go back, reload the page "
                   "and send it again.",
        "no_role": False,
        "roles": ROLES,
    }
    return render(request, "403.html", context, status=403)


def server_error(request):
    try:
        # No request and no context processors: nothing here reads the session or the database.
        body = loader.get_template("500.html").render()
    except Exception:  # the error page itself must never fail
        logger.exception("500.html could not be rendered; serving the plain error page")
        body = PLAIN_SERVER_ERROR
    return HttpResponseServerError(body)
