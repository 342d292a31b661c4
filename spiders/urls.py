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
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback
