"""The address guard against the IANA special-purpose address registries, written here as literal data.

A frozen contract, not read back from the code or from Python's `ipaddress` tables: every block the registries
mark "globally reachable: False" is refused (its first, last and a middle address), every block marked True is
fetchable, and the blocks that embed an IPv4 address (IPv4-mapped, 6to4, NAT64 64:ff9b::/96) are judged by
the address they embed. The IPv4 shorthand forms the C resolver accepts (inet_aton: 127.1, 0x7f.1, 2130706433,
octal) are judged as the address they name.

Sources: https://www.iana.org/assignments/iana-ipv4-special-registry and iana-ipv6-special-registry (as of
2025), plus multicast (224.0.0.0/4, ff00::/8) and IPv6 site-local (fec0::/10, deprecated by RFC 3879).
"""

from __future__ import annotations

import ipaddress

import pytest

from spiders.urls import is_blocked_address

# (block, globally reachable) as the registries list them; None: "N/A" (judged by what it embeds, below)
IPV4_SPECIAL = [
    ("0.0.0.0/8", False),  # "this network"
    ("10.0.0.0/8", False),  # private-use
    ("100.64.0.0/10", False),  # shared address space (carrier-grade NAT)
    ("127.0.0.0/8", False),  # loopback
    ("169.254.0.0/16", False),  # link local (cloud metadata at 169.254.169.254)
    ("172.16.0.0/12", False),  # private-use
    ("192.0.0.0/24", False),  # IETF protocol assignments (two anycast exceptions below)
    ("192.0.0.0/29", False),  # IPv4 service continuity prefix
    ("192.0.0.8/32", False),  # IPv4 dummy address
    ("192.0.0.9/32", True),  # port control protocol anycast
    ("192.0.0.10/32", True),  # traversal using relays around NAT anycast
    ("192.0.0.170/32", False),  # NAT64/DNS64 discovery
    ("192.0.0.171/32", False),  # NAT64/DNS64 discovery
    ("192.0.2.0/24", False),  # documentation (TEST-NET-1)
    ("192.31.196.0/24", True),  # AS112-v4
    ("192.52.193.0/24", True),  # AMT
    ("192.88.99.0/24", False),  # deprecated 6to4 relay anycast (RFC 7526): nothing to fetch there
    ("192.168.0.0/16", False),  # private-use
    ("192.175.48.0/24", True),  # direct delegation AS112 service
    ("198.18.0.0/15", False),  # benchmarking
    ("198.51.100.0/24", False),  # documentation (TEST-NET-2)
    ("203.0.113.0/24", False),  # documentation (TEST-NET-3)
    ("224.0.0.0/4", False),  # multicast
    ("240.0.0.0/4", False),  # reserved
    ("255.255.255.255/32", False),  # limited broadcast
]
IPV6_SPECIAL = [
    ("::1/128", False),  # loopback
    ("::/128", False),  # unspecified
    ("64:ff9b:1::/48", False),  # local-use IPv4/IPv6 translation
    ("100::/64", False),  # discard-only
    ("100:0:0:1::/64", False),  # dummy IPv6 prefix
    ("2001::/23", False),  # IETF protocol assignments (globally reachable exceptions below)
    ("2001::/32", False),  # TEREDO (N/A in the registry: it tunnels to a client address, refused whole)
    ("2001:1::1/128", True),  # port control protocol anycast
    ("2001:1::2/128", True),  # traversal using relays around NAT anycast
    ("2001:1::3/128", True),  # DNS-SD service registration protocol anycast
    ("2001:2::/48", False),  # benchmarking
    ("2001:3::/32", True),  # AMT
    ("2001:4:112::/48", True),  # AS112-v6
    ("2001:10::/28", False),  # deprecated ORCHID
    ("2001:20::/28", True),  # ORCHIDv2
    ("2001:30::/28", True),  # drone remote ID protocol entity tags
    ("2001:db8::/32", False),  # documentation
    ("2620:4f:8000::/48", True),  # direct delegation AS112 service
    ("3fff::/20", False),  # documentation
    ("5f00::/16", False),  # segment routing SIDs
    ("fc00::/7", False),  # unique-local
    ("fe80::/10", False),  # link-local unicast
    ("fec0::/10", False),  # site-local (deprecated)
    ("ff00::/8", False),  # multicast
]
EXCEPTIONS = [ipaddress.ip_network(n) for n, reachable in IPV4_SPECIAL + IPV6_SPECIAL if reachable]


def _samples(block: str) -> list[str]:
    """First, last and middle address of a block, leaving out those that fall in a globally reachable
    exception inside it (192.0.0.9 is in 192.0.0.0/24) when the block itself is not reachable."""
    net = ipaddress.ip_network(block)
    picks = {net[0], net[-1], net[net.num_addresses // 2]}
    return sorted(str(a) for a in picks if all(a not in e or e.prefixlen <= net.prefixlen for e in EXCEPTIONS))


def _cases(reachable: bool) -> list[str]:
    return [a for block, r in IPV4_SPECIAL + IPV6_SPECIAL if r is reachable for a in _samples(block)]


@pytest.mark.parametrize("address", _cases(False))
def test_every_block_not_globally_reachable_is_refused(address):
    assert is_blocked_address(address), address
    assert is_blocked_address(f"[{address}]" if ":" in address else address + "."), address


@pytest.mark.parametrize("address", _cases(True) + ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700::1111",
                                                    "2a00:1450:4001:82a::200e"])  # fmt: skip
def test_globally_reachable_addresses_are_fetchable(address):
    assert not is_blocked_address(address), address


# Addresses that embed an IPv4 address: the embedded one decides.
EMBEDDED = [
    # IPv4-mapped ::ffff:0:0/96
    ("::ffff:127.0.0.1", True), ("::ffff:7f00:1", True), ("::ffff:10.1.2.3", True), ("::ffff:a9fe:a9fe", True),
    ("::ffff:192.168.1.1", True), ("::ffff:100.64.0.1", True), ("::ffff:8.8.8.8", False),
    # 6to4 2002::/16: 2002:AABB:CCDD:: embeds AA.BB.CC.DD
    ("2002:7f00:1::", True), ("2002:a00:1::1", True), ("2002:c0a8:101::", True), ("2002:a9fe:a9fe::1", True),
    ("2002:ac10::", True), ("2002:6440::1", True), ("2002:808:808::1", False),
    # NAT64 well-known prefix 64:ff9b::/96 (globally reachable itself, RFC 6052)
    ("64:ff9b::7f00:1", True), ("64:ff9b::127.0.0.1", True), ("64:ff9b::a00:1", True),
    ("64:ff9b::169.254.169.254", True), ("64:ff9b::c0a8:101", True), ("64:ff9b::808:808", False),
    ("64:ff9b::1.1.1.1", False),
]  # fmt: skip


@pytest.mark.parametrize(("address", "blocked"), EMBEDDED)
def test_an_embedded_ipv4_address_decides(address, blocked):
    assert is_blocked_address(address) is blocked, address


# inet_aton shorthand: fewer parts, hexadecimal, octal, one 32-bit number (what getaddrinfo accepts too)
SHORTHAND = [
    ("127.1", True), ("127.0.1", True), ("0x7f.1", True), ("0x7f000001", True), ("2130706433", True),
    ("017700000001", True), ("0177.0.0.1", True), ("0x7F.0.0.1", True), ("10.1", True), ("0xa000001", True),
    ("167772161", True), ("192.168.1", True), ("0xc0.0xa8.1.1", True), ("0300.0250.1.1", True),
    ("169.254.43518", True), ("0xa9fea9fe", True), ("2852039166", True), ("0", True), ("0x0", True),
    ("100.64.1", True), ("172.16.1", True), ("134744072", False), ("8.8.2056", False), ("0x8080808", False),
]  # fmt: skip


@pytest.mark.parametrize(("host", "blocked"), SHORTHAND)
def test_inet_aton_shorthand_is_the_address_it_names(host, blocked):
    assert is_blocked_address(host) is blocked, host


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST.", "x.localhost", "metadata.google.internal", "metadata", "instance-data",
             "ip6-localhost", "[::1]", "[fe80::1%eth0]", "fe80::1%25eth0"],
)  # fmt: skip
def test_names_and_forms_of_this_machine_are_refused(host):
    assert is_blocked_address(host), host


@pytest.mark.parametrize("host", ["example.com", "news.example.org", "localhost.example.com", "1.2.3.4.example"])
def test_ordinary_names_are_left_to_the_resolver(host):
    assert not is_blocked_address(host), host


# -- the URL rules beside the guard ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.COM/a?utm_source=x&id=3&fbclid=y#top", "https://example.com/a?id=3"),
        ("HTTP://example.com:80", "http://example.com/"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("  https://example.com/a?b=&UTM_medium=m&Pk_campaign=c&gclid=1  ", "https://example.com/a?b="),
        ("https://example.com/a?mtm_kw=1&hsa_x=2&at_medium=3&_ga=4&ref=5", "https://example.com/a?ref=5"),
        ("/a?utm_source=x&b=1#f", "/a?b=1"),  # no host: none made up
    ],
)
def test_strip_tracking_gives_the_canonical_form(url, expected):
    from spiders.urls import strip_tracking

    assert strip_tracking(url) == expected


def test_host_domain_and_site_membership():
    from spiders.urls import host_of, in_domains, same_site

    assert host_of("https://News.Example.com:8080/a") == "news.example.com" and host_of("/relative") == ""
    assert in_domains("News.Example.com.", ["example.com"]) and in_domains("example.com", ["example.com"])
    assert not in_domains("badexample.com", ["example.com"]) and not in_domains("example.com", [])
    assert not in_domains("example.com.evil.org", ["example.com"])
    assert same_site("https://www.example.com/a", "https://example.com/b")
    assert same_site("https://example.com/a", "https://news.example.com/b")
    assert same_site("https://news.example.com/a", "https://example.com/b")
    assert not same_site("https://example.com/a", "https://badexample.com/b")
    assert not same_site("https://badexample.com/a", "https://example.com/b")
    assert not same_site("/a", "/b"), "no host is no site"
    assert same_site("https://www.example.com/a", "https://news.example.com/b")  # www. is not part of the site
    assert same_site("https://news.example.com/a", "https://www.example.com/b")
