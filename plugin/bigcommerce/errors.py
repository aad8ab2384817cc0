"""Typed errors raised by the BigCommerce client.

Callers decide what to do from the type alone: retry later (TransientError), fix the data
(ValidationError), fix the credentials (AuthError), or reconcile before retrying (OutcomeUnknownError).
Messages carry the method, path, status and BigCommerce's own explanation, never the access token."""


class BigCommerceError(Exception):
    """Base class. `status` is the HTTP status (None when no answer came back or the client refused
    the input itself). `completed` lists the results of the chunks of a chunked write that had already
    succeeded before this error (transaction ids or records), so a caller can record them."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", path: str = "", body=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.body = body
        self.completed: list = []
        self.chunk_index: int | None = None

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class AuthError(BigCommerceError):
    """401 (wrong token) or 403 (missing scope or a platform limit)."""


class NotFoundError(BigCommerceError):
    """404: the resource, or the store hash itself, does not exist."""


class ValidationError(BigCommerceError):
    """422 (and 400/413): BigCommerce refused the input. `errors` is BigCommerce's errors map
    ({field path: message}); a batch refusal puts its list under the key "batch_errors". Raised with
    status None when the client refuses input before sending it."""

    def __init__(self, message: str, *, errors: dict | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.errors = errors or {}


class RateLimitedError(BigCommerceError):
    """Still 429 after the waits the client allows itself."""


class TransientError(BigCommerceError):
    """Connection trouble or a 5xx that outlasted the retries. Safe to try again later."""


class ConnectionFailedError(TransientError):
    """The store's host could not be reached at all (DNS, refused, connect timeout, TLS)."""


class PermanentError(BigCommerceError):
    """Any other 4xx: retrying the same request will not help."""


class OutcomeUnknownError(BigCommerceError):
    """A write that is not safe to repeat (a POST, a relative adjustment) was sent, and no usable answer
    came back (timeout, dropped connection, 5xx). The store may or may not have applied it: read the
    store's state before deciding to send it again."""
