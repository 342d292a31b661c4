"""The crawler's DNS resolver: it refuses internal addresses, so the address checked is the address connected to.

Scrapy resolves a host name when it connects, through the resolver installed on the reactor
(TWISTED_DNS_RESOLVER). A guard that resolved the name itself and then let Scrapy resolve it again could be
fooled by DNS rebinding: a name that answers a public address to the check and 127.0.0.2 to the connection.
GuardedResolver checks every answer it gives, cached or fresh, for the connection and for the address
guard alike: a name that resolves to a private, loopback, link-local, reserved or metadata address fails
to resolve (BlockedAddressError), unless it is one of the hosts the source names itself (`trust`). The
address guard (spiders.middlewares.HostGuardMiddleware) reads `refused` to count such a failure as
`blocked_address` rather than a DNS error.

One resolver serves the whole process (Scrapy installs it once, before any crawler has its settings), so
the hosts to trust are handed to it when a crawl opens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from spiders.urls import is_blocked_address


class BlockedAddressError(DNSLookupError):
    """A host name that resolves to an internal address."""


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing internal addresses for every host it is not told to trust."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.trusted: set[str] = set()
        self.refused: set[str] = set()  # names refused so far (they may have resolved fine before)

    def trust(self, hosts: Iterable[str]) -> None:
        """Hosts the operator named (a source's feeds, sitemaps and allowed domains): resolved as they are."""
        self.trusted.update(h.lower().rstrip(".") for h in hosts)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802 - Twisted's name
        return self.lookup(name, timeout).addCallback(self._checked, name)

    def lookup(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        """The address of `name`, unchecked (a test resolver overrides this)."""
        return super().getHostByName(name, timeout)

    def _checked(self, address: str, name: str) -> str:
        host = name.lower().rstrip(".")
        if host not in self.trusted and is_blocked_address(address):
            self.refused.add(host)
            raise BlockedAddressError(f"{name} resolves to an internal address ({address})")
        return address
