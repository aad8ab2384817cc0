"""The Admin's API token page: create a token for a user (shown once), list tokens by prefix, revoke."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from plugin.portal.redirects import safe_redirect

from .forms import ApiTokenCreateForm, ApiTokenRevokeForm
from .selectors import api_token_list
from .services import api_token_create, api_token_revoke

TOKEN_PERMISSIONS = ("knox.view_authtoken", "knox.add_authtoken", "knox.delete_authtoken")


def _require_admin(request):
    if not request.user.has_perms(TOKEN_PERMISSIONS):
        raise PermissionDenied("Only an Admin may manage API tokens.")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    _require_admin(request)
    form = ApiTokenCreateForm(request.POST or None)
    new_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            row, new_token = api_token_create(user=form.cleaned_data["user"], created_by=request.user.get_username())
            form = ApiTokenCreateForm()
            status = 201
        else:
            status = 400
    return render(request, "api/tokens.html", {
        "form": form, "tokens": api_token_list(), "new_token": new_token,
    }, status=status)


@login_required
@require_POST
def api_token_revoke_view(request):
    _require_admin(request)
    form = ApiTokenRevokeForm(request.POST)
    fallback = reverse("api:tokens")
    if not form.is_valid():
        messages.error(request, "No such token.")
        return safe_redirect(request, fallback, fallback=fallback)
    count = api_token_revoke(token_key=form.cleaned_data["token_key"], user_id=form.cleaned_data["user"],
                             revoked_by=request.user.get_username())
    if count:
        messages.success(request, f"Token {form.cleaned_data['token_key']}... revoked.")
    else:
        messages.error(request, "No such token (already revoked?).")
    return safe_redirect(request, fallback, fallback=fallback)
