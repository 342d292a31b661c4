"""Why a request got no usable answer: one short, stable reason for the index, the stats and the report."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError


class Refused(IgnoreRequest):
    """A request the crawler will not make (or not finish); `reason` ends up in the index and the stats."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"refused ({reason}): {url}")
        self.reason, self.url = reason, url


def exception_reason(exc: BaseException) -> str:
    """A short, stable reason for a failed download."""
    if isinstance(exc, Refused):
        return exc.reason
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, TimeoutError | TCPTimedOutError | DownloadTimeoutError):
        return "timeout"
    if isinstance(exc, DNSLookupError | CannotResolveHostError):
        return "dns_error"
    if isinstance(exc, ConnectionRefusedError | DownloadConnectionRefusedError):
        return "connection_refused"
    message = str(exc)
    if (
        isinstance(exc, CancelledError | DownloadCancelledError)
        or "maxsize" in message.lower()
        or "DOWNLOAD_MAXSIZE" in message
    ):
        return "too_large"
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in message:
            return "robots_disallowed"
        if "offsite" in message.lower():
            return "offsite_redirect"
        if "max redirections" in message:  # RedirectMiddleware past REDIRECT_MAX_TIMES
            return "too_many_redirects"
        return "ignored"
    return type(exc).__name__.lower()
