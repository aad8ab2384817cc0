"""The one way a page redirects to a target that came with the request (a `next` field or parameter).

The target is used only when it is a path on this site: never a view name (Django's `redirect()` would
try to reverse a bare word and fail), never another host, never text with control characters."""
import unicodedata

from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_redirect_target(request, target, *, fallback: str = "") -> str:
    """`target` when it is a path on this site ("/..."), else `fallback` (a URL the caller built)."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return fallback
    if any(unicodedata.category(ch)[0] == "C" for ch in target):
        return fallback
    # Django's check also refuses the backslash and scheme tricks browsers read as another host.
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return fallback
    return target


def safe_redirect(request, target, *, fallback: str) -> HttpResponseRedirect:
    """A redirect to `target` when it is safe (see `safe_redirect_target`), else to `fallback`."""
    return HttpResponseRedirect(safe_redirect_target(request, target, fallback=fallback))


def next_from(request) -> str:
    """The request's `next` value (POST first, then the query string), as given."""
    return request.POST.get("next") or request.GET.get("next") or ""
