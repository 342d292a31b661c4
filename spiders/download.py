"""The crawler's HTTP(S) download handler: Twisted's public HTTP client, with every response head bounded.

Scrapy's own handler reads a response head of any size: Twisted's client parser bounds each line (16 KiB) but
neither the number of header lines nor their total, so a server can stream headers until the download
timeout (76 MiB in 30 s, 330 MiB of memory for one response). Scrapy has no hook in between: the
`headers_received` signal fires once the whole head is parsed and held, and the parser and protocol its
handler uses are private classes. So the `http` and `https` download handlers (DOWNLOAD_HANDLERS) are this
one, built on Twisted's public client API (`Agent.usingEndpointFactory`, `HTTPConnectionPool`,
`HostnameEndpoint`, `wrapClientTLS`) with an endpoint that wraps each connection's protocol
(`twisted.protocols.policies`) below the HTTP parser and above TLS: it reads each response head before the
parser does, and aborts the connection once the head passes NEWS_MAX_HEADER_BYTES or NEWS_MAX_HEADERS lines
(the download fails as `headers_too_large`; nothing of it is kept). The same wrapper checks the address the
connection reached, as a second line behind spiders.resolver: an internal address that is not a configured
host is dropped before the request is written (`blocked_address`).

Everything else is what Scrapy's handler does, through public names: DOWNLOAD_TIMEOUT (`download_timeout`),
DOWNLOAD_MAXSIZE and DOWNLOAD_WARNSIZE (and their meta keys), the `headers_received` and `bytes_received`
signals with StopDownload, DOWNLOAD_FAIL_ON_DATALOSS, `download_latency`, DOWNLOAD_BIND_ADDRESS, connection
reuse, and Scrapy's exception types (which RETRY_EXCEPTIONS lists). TLS does not verify certificates unless
DOWNLOAD_VERIFY_CERTIFICATES is set (Scrapy's default too), and sends the host name (SNI). A request through a
proxy (`proxy` meta, e.g. from the http_proxy environment) goes to Scrapy's own handler, whose heads are not
bounded: the proxy is the operator's.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from io import BytesIO
from time import monotonic
from typing import Any

from OpenSSL import SSL
from scrapy import Request, signals
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
    StopDownload,
)
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import build_from_crawler
from twisted.internet import defer, error
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator, IStreamClientEndpoint
from twisted.internet.protocol import Protocol
from twisted.internet.ssl import optionsForClientTLS
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure
from twisted.web.client import (
    URI,
    Agent,
    FileBodyProducer,
    HTTPConnectionPool,
    ResponseDone,
)
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers as TxHeaders
from twisted.web.iweb import UNKNOWN_LENGTH, IAgentEndpointFactory, IPolicyForHTTPS
from zope.interface import implementer

from spiders.reasons import Refused
from spiders.urls import is_blocked_address

log = logging.getLogger(__name__)
_HEAD_END = re.compile(rb"\r?\n\r?\n")  # the empty line that ends a head (HTTP/1.1 lines end in CRLF or LF)


class HeadersTooLarge(Refused):
    """A response head past the size or line limit."""


# -- the connection: the response head bounded, the peer address checked -----------------------------------


class _GuardedConnection(ProtocolWrapper):
    """Between the transport (TCP, or TLS once decrypted) and Twisted's HTTP protocol: buffers each response
    head (at most `max_bytes`, `max_lines` lines), hands it on once it is complete, and passes bodies as they
    come. A request written starts a new exchange: its answer begins with a head."""

    factory: _GuardedFactory

    def __init__(self, factory: _GuardedFactory, wrapped: Any) -> None:
        super().__init__(factory, wrapped)
        self._head: bytearray | None = bytearray()  # None while a body passes through
        self._failure: Failure | None = None

    def makeConnection(self, transport: Any) -> None:  # noqa: N802 - Twisted's name
        super().makeConnection(transport)
        peer = getattr(transport.getPeer(), "host", "")
        if not self.factory.trusted and is_blocked_address(peer):
            self._abort(Refused("blocked_address", f"{self.factory.host} at {peer}"))

    def write(self, data: bytes) -> None:
        self._head = self._head if self._head is not None else bytearray()
        super().write(data)

    def writeSequence(self, data: Any) -> None:  # noqa: N802 - Twisted's name
        self._head = self._head if self._head is not None else bytearray()
        super().writeSequence(data)

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
        if self._failure is not None:
            return
        if self._head is None:
            self.wrappedProtocol.dataReceived(data)
            return
        head = self._head
        searched = max(0, len(head) - 3)
        head += data
        while (end := _HEAD_END.search(head, searched)) is not None:
            complete, rest = bytes(head[: end.end()]), head[end.end() :]
            if not self._within_limits(complete):
                return
            interim = complete[9:10] == b"1"  # "HTTP/1.1 1xx": another head follows
            self._head = bytearray(rest) if interim else None
            self.wrappedProtocol.dataReceived(_lenient(complete))
            if not interim:
                if rest:
                    self.wrappedProtocol.dataReceived(bytes(rest))
                return
            head, searched = self._head, 0
        self._within_limits(head)

    def _within_limits(self, head: bytes | bytearray) -> bool:
        limits = self.factory
        if len(head) > limits.max_bytes or head.count(b"\n") > limits.max_lines + 2:
            self._abort(HeadersTooLarge("headers_too_large", limits.host))
            return False
        return True

    def _abort(self, reason: Exception) -> None:
        self._failure = Failure(reason)
        log.info("%s: connection dropped (%s)", reason, self.factory.host)
        self.transport.abortConnection()

    def connectionLost(self, reason: Failure) -> None:  # noqa: N802 - Twisted's name
        super().connectionLost(self._failure or reason)


def _lenient(head: bytes) -> bytes:
    """The head without header lines that have no colon (as Scrapy's parser skips them, and browsers do):
    Twisted's parser would fail the whole response on one."""
    lines = head.split(b"\n")
    kept = [lines[0], *(line for line in lines[1:] if b":" in line or line[:1] in (b" ", b"\t") or not line.strip())]
    return head if len(kept) == len(lines) else b"\n".join(kept)


class _GuardedFactory(WrappingFactory):
    protocol = _GuardedConnection

    def __init__(self, wrapped: Any, host: str, trusted: bool, max_bytes: int, max_lines: int) -> None:
        super().__init__(wrapped)
        self.host, self.trusted, self.max_bytes, self.max_lines = host, trusted, max_bytes, max_lines


@implementer(IStreamClientEndpoint)
class _GuardedEndpoint:
    """An endpoint whose connections carry a _GuardedConnection; it hands the HTTP protocol on, as expected."""

    def __init__(self, inner: IStreamClientEndpoint, **limits: Any) -> None:
        self.inner, self.limits = inner, limits

    def connect(self, factory: Any) -> defer.Deferred:
        d = self.inner.connect(_GuardedFactory(factory, **self.limits))
        return d.addCallback(lambda guard: guard.wrappedProtocol)


@implementer(IAgentEndpointFactory)
class _Endpoints:
    def __init__(self, handler: GuardedHTTPDownloadHandler, timeout: float, bind: Any) -> None:
        self.handler, self.timeout, self.bind = handler, timeout, bind

    def endpointForURI(self, uri: URI) -> IStreamClientEndpoint:  # noqa: N802 - Twisted's name
        from twisted.internet import reactor

        h = self.handler
        host = uri.host.decode("ascii")
        endpoint: IStreamClientEndpoint = HostnameEndpoint(
            reactor, host, uri.port, timeout=self.timeout, bindAddress=self.bind
        )
        if uri.scheme == b"https":
            endpoint = wrapClientTLS(h.tls.creatorForNetloc(uri.host, uri.port), endpoint)
        trusted = host.lower().strip("[]") in h.trusted
        return _GuardedEndpoint(endpoint, host=host, trusted=trusted, max_bytes=h.max_head, max_lines=h.max_headers)


# -- TLS -------------------------------------------------------------------------------------------------------


@implementer(IOpenSSLClientConnectionCreator)
class _UnverifiedTLS:
    """TLS with the server name sent (SNI) and the certificate not verified, as Scrapy does by default."""

    def __init__(self, context: SSL.Context, hostname: bytes) -> None:
        self.context, self.hostname = context, hostname

    def clientConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:  # noqa: N802 - Twisted's name
        connection = SSL.Connection(self.context, None)
        if not _is_ip(self.hostname):
            connection.set_tlsext_host_name(self.hostname)
        connection.set_connect_state()
        connection.set_app_data(tlsProtocol)
        return connection


@implementer(IPolicyForHTTPS)
class _TLSPolicy:
    def __init__(self, verify: bool) -> None:
        self.verify = verify
        self.context = SSL.Context(SSL.TLS_METHOD)
        self.context.set_options(SSL.OP_NO_SSLv2 | SSL.OP_NO_SSLv3 | SSL.OP_NO_COMPRESSION)
        self.context.set_verify(SSL.VERIFY_NONE, lambda *args: True)
        self.context.set_alpn_protos([b"http/1.1"])

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:  # noqa: N802 - Twisted's name
        if self.verify:
            return optionsForClientTLS(hostname.decode("ascii"))
        return _UnverifiedTLS(self.context, hostname)


def _is_ip(host: bytes) -> bool:
    try:
        ipaddress.ip_address(host.decode("ascii").strip("[]"))
    except ValueError:
        return False
    return True


# -- the handler -----------------------------------------------------------------------------------------------


class GuardedHTTPDownloadHandler(BaseDownloadHandler):
    """DOWNLOAD_HANDLERS for http and https (see the module's docstring)."""

    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        from twisted.internet import reactor

        s = crawler.settings
        self.pool = HTTPConnectionPool(reactor, persistent=True)
        self.pool.maxPersistentPerHost = s.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.tls = _TLSPolicy(s.getbool("DOWNLOAD_VERIFY_CERTIFICATES"))
        self.timeout = s.getfloat("DOWNLOAD_TIMEOUT")
        self.maxsize, self.warnsize = s.getint("DOWNLOAD_MAXSIZE"), s.getint("DOWNLOAD_WARNSIZE")
        self.fail_on_dataloss = s.getbool("DOWNLOAD_FAIL_ON_DATALOSS")
        self.bind = s.get("DOWNLOAD_BIND_ADDRESS")
        self.max_head, self.max_headers = s.getint("NEWS_MAX_HEADER_BYTES"), s.getint("NEWS_MAX_HEADERS")
        self.trusted = {h.lower() for h in s.getlist("NEWS_CONFIGURED_HOSTS")}
        self._proxied: HTTP11DownloadHandler | None = None

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("proxy"):
            if self._proxied is None:
                self._proxied = build_from_crawler(HTTP11DownloadHandler, self.crawler)
            return await self._proxied.download_request(request)
        from twisted.internet import reactor

        timeout = request.meta.get("download_timeout") or self.timeout
        bind = request.meta.get("bindaddress") or self.bind
        agent = Agent.usingEndpointFactory(reactor, _Endpoints(self, timeout, _bind(bind)), pool=self.pool)
        url = request.url.split("#", 1)[0]
        body = FileBodyProducer(BytesIO(request.body)) if request.body else None
        exchange = _Exchange(self, request, url)
        d = agent.request(request.method.encode("ascii"), url.encode("ascii"), TxHeaders(request.headers), body)
        d.addCallback(exchange.head_arrived)
        timer = reactor.callLater(timeout, d.cancel)
        try:
            return await maybe_deferred_to_future(d)
        except Exception as e:
            if timer.called:  # cancelled by the timer: whatever Twisted made of the cancellation
                raise DownloadTimeoutError(f"Getting {url} took longer than {timeout} seconds.") from e
            raise _scrapy_error(e) from e
        finally:
            if timer.active():
                timer.cancel()

    async def close(self) -> None:
        from twisted.internet import reactor

        d = self.pool.closeCachedConnections()
        later = reactor.callLater(1, d.callback, None)  # it can hang on a server that never closes
        try:
            await maybe_deferred_to_future(d)
        finally:
            if later.active():
                later.cancel()
        if self._proxied is not None:
            await self._proxied.close()


def _bind(value: Any) -> Any:
    return (value, 0) if isinstance(value, str) else value


def _scrapy_error(e: Exception) -> Exception:
    """Twisted's failure as the Scrapy exception RETRY_EXCEPTIONS and the spider know; ours as they are."""
    if reasons := getattr(e, "reasons", None):  # ResponseFailed, ResponseNeverReceived, RequestTransmissionFailed
        for reason in reasons:
            if isinstance(reason.value, Refused):
                return reason.value
        return DownloadFailedError(str(e))
    if isinstance(e, error.DNSLookupError):
        return CannotResolveHostError(str(e))
    if isinstance(e, error.ConnectionRefusedError):
        return DownloadConnectionRefusedError(str(e))
    if isinstance(e, error.TimeoutError):
        return DownloadTimeoutError(str(e))
    if isinstance(e, defer.CancelledError):
        return DownloadCancelledError(str(e))
    return e


class _Exchange:
    """One request's answer: its head checked against the signals and limits, then its body read."""

    def __init__(self, handler: GuardedHTTPDownloadHandler, request: Request, url: str) -> None:
        self.handler, self.request, self.url = handler, request, url
        self.started = monotonic()

    def head_arrived(self, tx: Any) -> Any:
        request, handler = self.request, self.handler
        request.meta["download_latency"] = monotonic() - self.started
        headers = Headers()
        headers.update(tx.headers.getAllRawHeaders())
        if tx.length != UNKNOWN_LENGTH:
            headers[b"Content-Length"] = str(tx.length).encode()
        self.status, self.headers = tx.code, headers
        self.protocol = f"{tx.version[0].decode()}/{tx.version[1]}.{tx.version[2]}"
        if stop := _stop_download(handler, signals.headers_received, request, headers=headers, body_length=tx.length):
            tx.deliverBody(_Discard())
            return self.response(b"", stop=stop)
        if tx.length == 0 or request.method == "HEAD" or tx.code in (204, 304):
            if tx.length != 0:
                tx.deliverBody(_Discard())
            return self.response(b"")
        maxsize = request.meta.get("download_maxsize", handler.maxsize)
        warnsize = request.meta.get("download_warnsize", handler.warnsize)
        if maxsize and tx.length != UNKNOWN_LENGTH and tx.length > maxsize:
            tx.deliverBody(_Discard())
            raise DownloadCancelledError(f"Expected to receive {tx.length} bytes, over DOWNLOAD_MAXSIZE ({maxsize})")
        if warnsize and tx.length != UNKNOWN_LENGTH and tx.length > warnsize:
            log.warning("Expected to receive %s bytes, over the warning size (%s) in %s", tx.length, warnsize, request)
        finished: defer.Deferred = defer.Deferred(lambda d: reader.stop())
        reader = _BodyReader(self, finished, maxsize, warnsize)
        tx.deliverBody(reader)
        return finished

    def response(self, body: bytes, flags: list[str] | None = None, stop: StopDownload | None = None) -> Response:
        flags = list(flags or [])
        if stop is not None:
            flags.append("download_stopped")
        cls = responsetypes.from_args(headers=self.headers, url=self.url, body=body)
        response = cls(
            url=self.url, status=self.status, headers=self.headers, body=body, flags=flags, protocol=self.protocol
        )
        if stop is not None and stop.fail:
            stop.response = response
            raise stop
        return response


class _BodyReader(Protocol):
    def __init__(self, exchange: _Exchange, finished: defer.Deferred, maxsize: int, warnsize: int) -> None:
        self.exchange, self.finished, self.maxsize, self.warnsize = exchange, finished, maxsize, warnsize
        self.buffer, self.size, self.warned = BytesIO(), 0, False

    def stop(self) -> None:
        if self.transport is not None:
            self.transport.stopProducing()

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
        if self.finished.called:
            return
        self.buffer.write(data)
        self.size += len(data)
        handler, request = self.exchange.handler, self.exchange.request
        if stop := _stop_download(handler, signals.bytes_received, request, data=data):
            self.stop()
            self._finish(self.exchange.response, self.buffer.getvalue(), stop=stop)
            return
        if self.maxsize and self.size > self.maxsize:
            self.buffer = BytesIO()
            self.stop()
            self.finished.errback(
                DownloadCancelledError(f"Received {self.size} bytes, over DOWNLOAD_MAXSIZE ({self.maxsize})")
            )
            return
        if self.warnsize and self.size > self.warnsize and not self.warned:
            self.warned = True
            log.warning("Received %s bytes, over the warning size (%s) in %s", self.size, self.warnsize, request)

    def connectionLost(self, reason: Failure = error.ConnectionDone) -> None:  # noqa: N802 - Twisted's name
        if self.finished.called:
            return
        body = self.buffer.getvalue()
        if reason.check(ResponseDone):
            self._finish(self.exchange.response, body)
        elif reason.check(PotentialDataLoss):
            self._finish(self.exchange.response, body, ["partial"])
        elif not self.exchange.request.meta.get("download_fail_on_dataloss", self.exchange.handler.fail_on_dataloss):
            self._finish(self.exchange.response, body, ["dataloss"])
        else:
            self.finished.errback(ResponseDataLossError(f"Got data loss in {self.exchange.url}"))

    def _finish(self, make: Any, *args: Any, **kwargs: Any) -> None:
        try:
            response = make(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - a StopDownload(fail=True) with its response
            self.finished.errback(e)
        else:
            self.finished.callback(response)


class _Discard(Protocol):
    """Takes a body nobody reads, and stops the connection it comes on."""

    def makeConnection(self, transport: Any) -> None:  # noqa: N802 - Twisted's name
        super().makeConnection(transport)
        transport.stopProducing()

    def connectionLost(self, reason: Failure = error.ConnectionDone) -> None:  # noqa: N802 - Twisted's name
        pass


def _stop_download(handler: GuardedHTTPDownloadHandler, signal: object, request: Request, **kwargs: Any) -> Any:
    """The StopDownload a handler of `signal` raised, if one did."""
    results = handler.crawler.signals.send_catch_log(
        signal=signal, request=request, spider=handler.crawler.spider, **kwargs
    )
    for _, result in results:
        if isinstance(result, Failure) and isinstance(result.value, StopDownload):
            return result.value
    return None
