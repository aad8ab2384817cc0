"""Request guards that hold for every page, the admin and the API included.

`InputGuardMiddleware` refuses, with 400, a request whose path, query string or form body holds a NUL
character or bytes that are not UTF-8: PostgreSQL cannot store a NUL, and Django would otherwise turn
undecodable bytes into replacement characters and go on with text nobody typed.
`JobQueueErrorMiddleware` turns an unreachable broker or Redis, wherever it surfaces, into the 503 page
"The job queue is not reachable; nothing was started" instead of a 500 with a raw ConnectionError."""
import logging
from urllib.parse import unquote_to_bytes

from django.http import HttpResponseBadRequest, JsonResponse

from .jobqueue import job_queue_unavailable_response, queue_errors

logger = logging.getLogger(__name__)

BAD_INPUT_MESSAGE = "Bad request: the request holds a NUL character or text that is not UTF-8."
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TEXT_BODY_TYPES = ("application/json", "text/")


def _encoded_text_bad(raw: bytes) -> bool:
    """True when a percent-encoded query string or form body decodes to a NUL or to non-UTF-8 bytes."""
    for pair in raw.replace(b";", b"&").split(b"&"):
        for part in pair.split(b"=", 1):
            value = unquote_to_bytes(part.replace(b"+", b" "))
            if b"\x00" in value:
                return True
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return True
    return False


def _raw_text_bad(raw: bytes) -> bool:
    if b"\x00" in raw:
        return True
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    # A JSON string may spell the NUL as an escape.
    return "\\u0000" in text


def _parsed_values_bad(querydict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in querydict.lists())


def request_input_bad(request) -> bool:
    if "\x00" in request.path:
        return True
    if _encoded_text_bad(request.META.get("QUERY_STRING", "").encode("latin-1", "replace")):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        return _encoded_text_bad(request.body)
    if content_type == "multipart/form-data":
        # Field values only; an uploaded file is bytes by nature.
        return _parsed_values_bad(request.POST)
    if content_type.startswith(TEXT_BODY_TYPES):
        return _raw_text_bad(request.body)
    return False


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            bad = request_input_bad(request)
        except UnicodeEncodeError:
            bad = True
        if bad:
            logger.info("Refused %s %s: NUL or non-UTF-8 input", request.method, request.path_info[:200])
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": BAD_INPUT_MESSAGE}, status=400)
            return HttpResponseBadRequest(BAD_INPUT_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class JobQueueErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, queue_errors()):
            logger.warning("Job queue unreachable during %s %s: %r", request.method, request.path, exception)
            return job_queue_unavailable_response(request, exception)
        return None
