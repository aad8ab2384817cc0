"""The client's address as the sign-in lockout sees it (django-axes' AXES_CLIENT_IP_CALLABLE).

Behind a TLS proxy every request comes from the proxy's address. Only when ITBC_TRUSTED_PROXY_COUNT says
how many proxies stand in front is the address taken from X-Forwarded-For: the entry that many places
from its right end, the one the outermost trusted proxy saw. Entries further left are whatever the
client sent and are never trusted."""
import ipaddress

from django.conf import settings


def _address(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_address(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    count = int(getattr(settings, "ITBC_TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        # The request did not come through every trusted proxy: its own address is all we know.
        return remote
    return _address(forwarded[-count]) or remote
