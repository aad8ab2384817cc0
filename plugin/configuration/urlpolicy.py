"""Where a store's access token may be sent: the API base URL rule.

BigCommerce's API over https, and nothing else, unless the ITBC_API_URL_ALLOWLIST setting names an
origin (the sandbox store and the tests use http://127.0.0.1). An entry `scheme://host` allows that
host on any port, `scheme://host:port` that port only. User names, passwords, queries and fragments are
never part of an API base URL."""
from urllib.parse import urlsplit

from django.conf import settings

BIGCOMMERCE_API_HOST = "api.bigcommerce.com"


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port


def _allowed_origins() -> list[tuple[str, str, int | None]]:
    origins = []
    for entry in getattr(settings, "ITBC_API_URL_ALLOWLIST", []) or []:
        origin = _origin(entry)
        if origin is not None:
            origins.append(origin)
    return origins


def api_base_url_problem(url: str) -> str:
    """Why `url` may not be a store's API base URL, or "" when it may."""
    try:
        parts = urlsplit((url or "").strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "Enter a valid URL."
    if parts.username is not None or parts.password is not None:
        return "An API base URL holds no user name or password."
    if parts.query or parts.fragment:
        return "An API base URL holds no query (?...) or fragment (#...)."
    origin = _origin(url)
    if origin is None:
        return "Enter an http(s) URL."
    scheme, host, port = origin
    for allowed_scheme, allowed_host, allowed_port in _allowed_origins():
        if scheme == allowed_scheme and host == allowed_host and allowed_port in (None, port):
            return ""
    if scheme != "https":
        return "The API base URL must use https."
    if host != BIGCOMMERCE_API_HOST or port not in (None, 443):
        return (
            f"The API base URL must be BigCommerce's API (https://{BIGCOMMERCE_API_HOST}); "
            "other hosts need the ITBC_API_URL_ALLOWLIST setting."
        )
    return ""


def api_base_url_same(first: str, second: str) -> bool:
    """True when two API base URLs name the same place (a trailing slash aside)."""
    return (first or "").strip().rstrip("/") == (second or "").strip().rstrip("/")
