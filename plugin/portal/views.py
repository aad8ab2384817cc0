"""The health endpoints, the sign-in pages that redirect through the safe helper, the Admin's page
that lifts a sign-in lockout, and the dashboard home with its status boxes."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from plugin.configuration.roles import role_needed_sentence
from plugin.configuration.selectors import store_get, store_status
from plugin.sync.selectors import store_active_runs

from .dashboard import dashboard_rows, dashboard_totals, runs_activity
from .forms import LockoutResetForm
from .health import database_check, health_report
from .redirects import safe_redirect, safe_redirect_target
from .selectors import lockout_list, trusted_proxy_count
from .services import lockout_reset

LOCKOUT_PERMISSION = "axes.delete_accessattempt"
STORE_VIEW_PERMISSION = "configuration.view_storeconnection"
# The status boxes' script polls faster while this header says a run of the store is queued or running.
RUNS_ACTIVE_HEADER = "X-Runs-Active"


@never_cache
@require_GET
def healthz(request):
    """Every service with its state, as JSON: 200 only when all are up (or not used)."""
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@never_cache
@require_GET
def healthz_live(request):
    """Liveness of this web process for a container health check: the database answers."""
    database = database_check()
    return JsonResponse({"status": "ok" if database["state"] == "up" else "unavailable"},
                        status=200 if database["state"] == "up" else 503)


class LoginView(auth_views.LoginView):
    """Django's sign-in page; the `next` target goes through the safe redirect helper."""

    def get_redirect_url(self):
        target = self.request.POST.get(self.redirect_field_name, self.request.GET.get(self.redirect_field_name))
        return safe_redirect_target(self.request, target)


class LogoutView(auth_views.LogoutView):
    """Django's sign-out; a `next` target goes through the safe redirect helper (else LOGOUT_REDIRECT_URL)."""

    def get_redirect_url(self):
        target = self.request.POST.get(self.redirect_field_name, self.request.GET.get(self.redirect_field_name))
        return safe_redirect_target(self.request, target)


@login_required
@require_http_methods(["GET", "POST"])
def lockouts(request):
    """Failed sign-ins by username and address; an Admin lifts a user's lockout here."""
    if not request.user.has_perm(LOCKOUT_PERMISSION):
        raise PermissionDenied("Only an Admin may see and lift sign-in lockouts.")
    form = LockoutResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        removed = lockout_reset(username=username, by=request.user.get_username())
        if removed:
            messages.success(request, f"{username} may sign in again ({removed} failed sign-in records cleared).")
        else:
            messages.info(request, f"{username} had no failed sign-ins to clear.")
        return safe_redirect(request, reverse("portal:lockouts"), fallback=reverse("portal:lockouts"))
    return render(request, "portal/lockouts.html", {
        "rows": lockout_list(), "form": form, "trusted_proxy_count": trusted_proxy_count(),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    })


def _require_store_view(request) -> None:
    if not request.user.has_perm(STORE_VIEW_PERMISSION):
        raise PermissionDenied(role_needed_sentence(STORE_VIEW_PERMISSION))


@login_required
@require_GET
def dashboard(request):
    """The home page: every store's status light, its facts and its last 30 days."""
    _require_store_view(request)
    rows = dashboard_rows()
    return render(request, "portal/dashboard.html", {
        "rows": rows, "totals": dashboard_totals(rows),
        "can_add_store": request.user.has_perm("configuration.add_storeconnection"),
    })


@never_cache
@login_required
@require_GET
def dashboard_activity(request):
    """Per store: its newest run and whether one is going (JSON, one statement), so the status boxes'
    script reloads only the boxes whose store changed. `?store=ID` for one store."""
    _require_store_view(request)
    store = request.GET.get("store", "")
    if store and not (store.isascii() and store.isdigit() and len(store) < 19):
        return JsonResponse({"error": "'store' must be a store id."}, status=400)
    activity = runs_activity(store_ids=[int(store)] if store else None)
    return JsonResponse({"stores": {str(store_id): facts for store_id, facts in activity.items()}})


@never_cache
@login_required
@require_GET
def dashboard_store_status(request, store_pk):
    """One store's dashboard box (HTML), for the script that refreshes it while runs go on."""
    _require_store_view(request)
    rows = dashboard_rows(store_ids=[store_pk])
    if not rows:
        raise Http404("No such store.")
    response = render(request, "portal/_store_box.html", {"row": rows[0]})
    response[RUNS_ACTIVE_HEADER] = "1" if rows[0].runs_active else "0"
    return response


@never_cache
@login_required
@require_GET
def sync_status_panel(request, store_pk):
    """The Synchronization tab's status box (HTML), refreshed by its script when a run starts and ends."""
    _require_store_view(request)
    store = store_get(pk=store_pk)
    if store is None or not hasattr(store, "basic_configuration"):
        raise Http404("No such store.")
    response = render(request, "configuration/_status_panel.html", {
        "store": store, "configuration": store.basic_configuration, "status": store_status(store),
    })
    response[RUNS_ACTIVE_HEADER] = "1" if store_active_runs(store=store) else "0"
    return response
