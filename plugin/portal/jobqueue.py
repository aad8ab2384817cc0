"""Is the job queue reachable? The broker (Redis or the embedded transport) and, when REDIS_URL is set,
Redis itself, which holds the job locks. A job button or command checks first, so nothing is started
(no run recorded) when a job could not be queued or locked."""
import functools
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.http import JsonResponse
from django.template.response import TemplateResponse

JOB_QUEUE_UNREACHABLE = "The job queue is not reachable; nothing was started."
CHECK_TIMEOUT_SECONDS = 2


class JobQueueUnavailable(Exception):
    """The broker or Redis did not answer."""

    def __init__(self, detail: str = "", *, reason: str = ""):
        super().__init__(JOB_QUEUE_UNREACHABLE + (f" ({detail})" if detail else ""))
        self.detail = detail  # names the service's host: for the command line, not for public pages
        self.reason = reason or detail


def queue_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean the broker or Redis is unreachable, wherever they surface."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (JobQueueUnavailable, OperationalError, RedisConnectionError, RedisTimeoutError)


def url_without_password(url: str) -> str:
    """A service URL fit to print: host, port and path, never the user or password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "(unparsable URL)"


def redis_ping(url: str | None = None, *, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
    """Raise JobQueueUnavailable unless Redis at `url` (default REDIS_URL) answers a PING."""
    import redis

    url = url if url is not None else getattr(settings, "REDIS_URL", "")
    if not url:
        return
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
        raise JobQueueUnavailable(f"Redis at {url_without_password(url)}: {type(exc).__name__}",
                                  reason=f"not reachable ({type(exc).__name__})") from exc
    finally:
        client.close()


def broker_ping(*, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
    """Raise JobQueueUnavailable unless Celery's broker accepts a connection."""
    from kombu.exceptions import OperationalError

    from itbc_portal.celery import app

    connection = app.connection_for_write()
    try:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    except (OperationalError, OSError) as exc:
        raise JobQueueUnavailable(
            f"broker at {url_without_password(connection.as_uri())}: {type(exc).__name__}",
            reason=f"not reachable ({type(exc).__name__})",
        ) from exc
    finally:
        connection.release()


def job_queue_check() -> None:
    """Raise JobQueueUnavailable unless the broker and Redis (when used) answer."""
    redis_ping()
    broker_ping()


def job_queue_unavailable_response(request, error: BaseException | None = None):
    """503: "The job queue is not reachable; nothing was started", as JSON for the page's script."""
    if "application/json" in request.headers.get("Accept", "") or request.path.startswith("/api/"):
        return JsonResponse({"error": JOB_QUEUE_UNREACHABLE}, status=503)
    response = TemplateResponse(
        request, "portal/job_queue_unavailable.html", {"message": JOB_QUEUE_UNREACHABLE}, status=503
    )
    return response.render()


def requires_job_queue(view):
    """For a view that starts a job: answer 503 before anything is recorded when the queue is down."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            try:
                job_queue_check()
            except JobQueueUnavailable as exc:
                return job_queue_unavailable_response(request, exc)
        return view(request, *args, **kwargs)

    return wrapped
