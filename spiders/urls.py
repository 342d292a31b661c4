"""URL helpers: canonical form, domain membership, and which addresses must never be fetched."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid",
     "_ga", "_gl", "ref_src", "cmpid", "ocid", "smid", "spm", "mkt_tok", "oly_enc_id", "oly_anon_id"}
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_")
# Names that always mean "this machine" or a cloud metadata service, whatever DNS says.
BLOCKED_NAMES = frozenset(
    {"localhost", "metadata", "metadata.google.internal", "instance-data", "ip6-localhost"}
)


def strip_tracking(url: str) -> str:
    """The URL without fragment and tracking parameters, host lower-cased, default port dropped."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    netloc = (parts.hostname or "").lower()
    if parts.port and (parts.scheme, parts.port) not in (("http", 80), ("https", 443)):
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def in_domains(host: str, domains: Iterable[str]) -> bool:
    """True if `host` is one of `domains` or a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def same_site(url: str, other: str) -> bool:
    """Same registrable-ish site: equal hosts, or one a subdomain of the other (www.x.com ~ x.com)."""
    a, b = host_of(url).removeprefix("www."), host_of(other).removeprefix("www.")
    return bool(a) and (a == b or a.endswith("." + b) or b.endswith("." + a))


# Where the IANA special-purpose registries differ from Python 3.11's `ipaddress` tables (which predate some
# entries): blocks that are not globally reachable although `is_global` says so, and globally reachable
# exceptions inside blocks it refuses. The whole contract is frozen in tests/test_address_contract.py.
NOT_GLOBAL = tuple(map(ipaddress.ip_network, ("192.0.0.0/24", "192.88.99.0/24", "3fff::/20", "fec0::/10")))
GLOBAL = tuple(map(ipaddress.ip_network, (
    "192.0.0.9/32", "192.0.0.10/32", "2001:1::1/128", "2001:1::2/128", "2001:1::3/128", "2001:3::/32",
    "2001:4:112::/48", "2001:20::/28", "2001:30::/28",
)))  # fmt: skip
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are the IPv4 address connected to


def is_internal_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Not globally reachable (IANA special-purpose registries), multicast or reserved; an IPv6 address that
    embeds an IPv4 one (IPv4-mapped, 6to4, NAT64) is judged by the IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        if embedded is not None:
            return is_internal_ip(embedded)
    if any(ip in net for net in GLOBAL):
        return False
    return any(ip in net for net in NOT_GLOBAL) or not ip.is_global or ip.is_multicast or ip.is_reserved


def is_blocked_address(host: str) -> bool:
    """Private, loopback, link-local, multicast, reserved or metadata addresses (literal IPs and names)."""
    host = host.lower().strip("[]").rstrip(".")
    if host in BLOCKED_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        try:  # shorthand IPv4 forms the resolver accepts too: 127.1, 0x7f000001, 2130706433
            ip = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return False
    return is_internal_ip(ip)
