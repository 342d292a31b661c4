"""What the spider reads from an article page: its publication date and its canonical URL.

`published_date` and `canonical_url` read them from a parsed page (XPath). `scan(body, url)` gives the
same answers from the raw bytes, about 4x faster on news pages (no decoding, no tree): one regex pass over
the tags that matter (meta, link, time, JSON-LD scripts), skipping what the HTML parser does not read as
tags (comments, script, style, title and other raw text). It raises NeedsParse, and the caller parses,
when only the parser can be sure: an element with itemprop=datePublished, a value with non-ASCII bytes
(the page's encoding would decide), a body in an encoding that is not ASCII-compatible, a tag or markup
declaration that never ends. Checked against the parser on 1,678 real pages (AEB and WCXB): same answers,
4% of pages left to the parser.

The scan is linear in the page: each tag start is found once, then its end is matched with possessive
(non-backtracking) quantifiers; a tag that never ends stops the scan (NeedsParse) instead of being retried at
every later "<" (a page of 48 KB of "<meta " starts took 6.8 s when it was, 192 KB 130 s). Past MAX_STARTS
tags examined (real pages have a few hundred) the scan gives up to the parser, whose C loop is faster on
such pages, so the scan costs at most a few milliseconds whatever the page. JSON-LD that nests too deep for
the JSON decoder (RecursionError) counts as malformed, as a ValueError does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from html import unescape
from typing import Any
from urllib.parse import urljoin

from parsel import Selector

from spiders.dates import parse_date
from spiders.urls import same_site, strip_tracking

# Most specific first: explicit publication metadata beats a bare <time> element.
META_XPATHS = (
    "//meta[@property='article:published_time']/@content",
    "//meta[@itemprop='datePublished']/@content",
    "//*[@itemprop='datePublished']/@datetime",
    "//meta[@name='pubdate' or @name='publishdate' or @name='publish-date' or @name='date']/@content",
    "//meta[@name='DC.date.issued' or @name='dc.date.issued' or @name='DC.date']/@content",
    "//meta[@name='dcterms.created']/@content",
    "//meta[@property='og:published_time']/@content",
)
TIME_XPATH = "(//article//time[@datetime] | //time[@pubdate][@datetime] | //time[@datetime])[1]/@datetime"


def read(body: bytes, url: str, selector: Callable[[], Selector]) -> tuple[datetime | None, str, str]:
    """(published date, canonical URL, how they were read): by the `scan` of the bytes, by the parser when
    the scan cannot be sure (`selector` parses the page), or "unparsable" when neither could read the page
    (no date; its URL without tracking as canonical)."""
    try:
        try:
            published, canonical = scan(body, url)
            return published, canonical, "scan"
        except NeedsParse:
            parsed = selector()
            return published_date(parsed), canonical_url(parsed, url), "parser"
    except (ValueError, UnicodeError, RecursionError):
        return None, strip_tracking(url), "unparsable"


def published_date(sel: Selector) -> datetime | None:
    """The page's publication date: meta tags, JSON-LD `datePublished`, then the first `<time datetime>`."""
    for xpath in META_XPATHS:
        for value in sel.xpath(xpath).getall():
            if parsed := parse_date(value):
                return parsed
    for data in _json_ld(sel):
        for value in _find_key(data, "datePublished"):
            if isinstance(value, str) and (parsed := parse_date(value)):
                return parsed
    return parse_date(sel.xpath(TIME_XPATH).get())


def canonical_url(sel: Selector, url: str) -> str:
    """`link rel=canonical` or `og:url` when on the same site as `url`, else `url` without tracking."""
    for xpath in ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"):
        if absolute := _usable(sel.xpath(xpath).get(), url):
            return absolute
    return strip_tracking(url)


# -- the same two answers without a parse ---------------------------------------------------------------

# A tag's attributes up to its ">", quotes paired; possessive, so a tag without an end fails in one pass.
_TAG_END = re.compile(rb"""(?:[^>"']++|"[^"]*+"|'[^']*+')*+>""")
_RAW_TEXT = (b"script", b"style", b"title", b"textarea", b"xmp", b"iframe", b"noembed", b"noframes")


def _ci(names: tuple[bytes, ...]) -> bytes:
    """Tag names as case-insensitive alternatives (character classes: faster than re.IGNORECASE)."""
    return b"|".join(b"".join(b"[%c%c]" % (c, c ^ 32) for c in name.lower()) for name in names)


# The starts of what matters: comments and markup declarations, elements whose content is raw text (no
# tags inside, as the HTML parser reads it), and the three tags read. Everything starts with "<". Only the
# start is matched here (constant work per "<"); the end is found from it, once.
_START = re.compile(
    rb"<(?:(" + _ci((b"meta", b"link", b"time")) + rb")(?=[\s/>])"
    rb"|(" + _ci(_RAW_TEXT) + rb")(?=[\s/>])"
    rb"|(!--)|([!?])|(" + _ci((b"plaintext",)) + rb")(?=[\s/>]))"
)
_COMMENT_END = re.compile(rb"-?>|.*?--!?>", re.DOTALL)  # after "<!--"; also the abrupt <!--> and <!--->
_RAW_END = {name: re.compile(rb"</(?:" + _ci((name,)) + rb")(?=[\s/>])") for name in _RAW_TEXT}
_ATTR = re.compile(rb"""([^\s"'>/=][^\s"'>/=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
# Attribute values that make a meta or link tag worth reading (case-sensitive, as the XPaths compare).
_WANTED = re.compile(rb"date|published_time|dcterms\.created|canonical|og:url")
# An element with itemprop=datePublished, wherever it is (conservative: it may sit in a comment or script).
_ITEMPROP_PUBLISHED = re.compile(_ci((b"itemprop",)) + rb"""\s*=\s*["']?datePublished(?=[\s"'/>])""")

# (attribute, accepted values) per META_XPATHS entry, in the same order; None is the rule on any element.
_META_RULES: tuple[tuple[str, frozenset[str]] | None, ...] = (
    ("property", frozenset({"article:published_time"})),
    ("itemprop", frozenset({"datePublished"})),
    None,
    ("name", frozenset({"pubdate", "publishdate", "publish-date", "date"})),
    ("name", frozenset({"DC.date.issued", "dc.date.issued", "DC.date"})),
    ("name", frozenset({"dcterms.created"})),
    ("property", frozenset({"og:published_time"})),
)


MAX_STARTS = 10_000  # tags examined by the scan before it leaves the page to the parser


class NeedsParse(Exception):
    """The bytes alone cannot give the parser's answer."""


def scan(body: bytes, url: str) -> tuple[datetime | None, str]:
    """(published date, canonical URL) as `published_date` and `canonical_url` give them from a parse.

    Raises NeedsParse when the page needs the parser to be sure: microdata `datePublished`, a value that
    is not ASCII (the page's encoding would decide), a body that is not in an ASCII-compatible encoding.
    """
    if b"\x00" in body[:1024]:
        raise NeedsParse("not an ASCII-compatible encoding")
    metas: list[dict[str, str]] = []
    links: list[dict[str, str]] = []
    scripts: list[bytes] = []  # JSON-LD, in document order
    first_time: dict[str, str] | None = None  # the first <time datetime>
    pos, size = 0, len(body)
    published: datetime | None = None  # from the first article:published_time that parses: final
    canonical: str | None = None  # from the first rel=canonical link, when usable: final
    starts = 0
    while (m := _START.search(body, pos)) is not None:
        pos = m.end()
        starts += 1
        if starts > MAX_STARTS:
            raise NeedsParse("more tags than a page has")
        tag, raw_tag, comment, declaration, plaintext = m.groups()
        if tag is not None or raw_tag is not None:
            end = _TAG_END.match(body, pos)
            if end is None:
                raise NeedsParse("a tag that never ends")  # the parser knows what the rest of the page is
            attrs, pos = body[pos : end.end() - 1], end.end()
        if tag is not None:
            kind = tag.lower()
            if kind == b"time":
                if first_time is None and b"datetime" in attrs.lower():
                    found = _attributes(attrs)
                    first_time = found if "datetime" in found else None
                continue
            if not _WANTED.search(attrs) and b"&" not in attrs:  # (an entity may hide a wanted value)
                continue
            found = _attributes(attrs)
            if kind == b"meta":
                metas.append(found)
                if published is None and found.get("property") == "article:published_time":
                    published = parse_date(_value(found, "content"))
            else:
                links.append(found)
                if canonical is None and found.get("rel") == "canonical" and "href" in found:
                    canonical = _usable(_value(found, "href"), url) or ""
            if published and canonical:
                return published, canonical  # nothing later in the page can change either
        elif raw_tag is not None:
            end = _RAW_END[raw_tag.lower()].search(body, pos)
            stop = end.start() if end else size
            if (
                len(scripts) < 20
                and stop > pos
                and (b"ld+json" in attrs or b"&" in attrs)
                and raw_tag.lower() == b"script"
                and _attributes(attrs).get("type") == "application/ld+json"
            ):
                scripts.append(body[pos:stop])
            pos = stop
        elif comment is not None:
            end = _COMMENT_END.match(body, pos)
            pos = end.end() if end else size
        elif declaration is not None:  # <!DOCTYPE …>, <![CDATA[…]>, <?…>: up to the first ">"
            close = body.find(b">", pos)
            if close < 0:
                raise NeedsParse("a markup declaration that never ends")
            pos = close + 1
        elif plaintext is not None:
            break
    return _published(metas, scripts, first_time, body), _canonical(metas, links, url)


def _attributes(raw: bytes) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for m in _ATTR.finditer(raw):
        name = m.group(1).lower().decode("latin-1")
        if name in attrs:
            continue  # the parser keeps the first of a repeated attribute
        # Non-ASCII bytes stay undecoded (surrogates): they cannot equal the ASCII names compared
        # against, and `_value` refuses them where a value is used.
        text = next((v for v in m.group(2, 3, 4) if v is not None), b"").decode("ascii", "surrogateescape")
        attrs[name] = unescape(text) if "&" in text else text
    return attrs


def _value(attrs: dict[str, str], name: str) -> str | None:
    """An attribute value to use; one with non-ASCII bytes would need the page's encoding."""
    value = attrs.get(name)
    if value is not None and not value.isascii():
        raise NeedsParse("a non-ASCII attribute value")
    return value


def _published(
    metas: list[dict[str, str]], scripts: list[bytes], first_time: dict[str, str] | None, body: bytes
) -> datetime | None:
    for rule in _META_RULES:
        if rule is None:
            if b"datePublished" in body and _ITEMPROP_PUBLISHED.search(body):
                raise NeedsParse("microdata datePublished")  # on any element: only the parser knows where
            continue
        attr, values = rule
        for attrs in metas:
            if attrs.get(attr) in values and (parsed := parse_date(_value(attrs, "content"))):
                return parsed
    for script in scripts:
        try:
            data = json.loads(script.decode("utf-8"))
        except UnicodeDecodeError:
            raise NeedsParse("non-UTF-8 JSON-LD") from None
        except (ValueError, RecursionError):  # malformed, or nested deeper than the decoder goes
            continue
        for value in _find_key(data, "datePublished"):
            if isinstance(value, str) and (parsed := parse_date(value)):
                return parsed
    return parse_date(_value(first_time, "datetime")) if first_time else None


def _canonical(metas: list[dict[str, str]], links: list[dict[str, str]], url: str) -> str:
    candidates = (
        next((a for a in links if a.get("rel") == "canonical" and "href" in a), None),
        next((a for a in metas if a.get("property") == "og:url" and "content" in a), None),
    )
    for attrs, name in zip(candidates, ("href", "content"), strict=True):
        if attrs and (absolute := _usable(_value(attrs, name), url)):
            return absolute
    return strip_tracking(url)


def _usable(href: str | None, url: str) -> str | None:
    """A canonical candidate made absolute and stripped, if it is an http(s) URL on the same site."""
    href = (href or "").strip()
    if href:
        absolute = urljoin(url, href)
        if absolute.startswith(("http://", "https://")) and same_site(absolute, url):
            return strip_tracking(absolute)
    return None


def _json_ld(sel: Selector) -> Iterator[Any]:
    for script in sel.xpath("//script[@type='application/ld+json']/text()").getall()[:20]:
        try:
            yield json.loads(script)
        except (ValueError, RecursionError):  # malformed, or nested deeper than the decoder goes
            continue


def _find_key(data: Any, key: str, depth: int = 0) -> Iterator[Any]:
    if depth > 8:  # JSON-LD graphs are shallow; a bound keeps hostile pages cheap
        return
    if isinstance(data, dict):
        if key in data:
            yield data[key]
        for value in data.values():
            yield from _find_key(value, key, depth + 1)
    elif isinstance(data, list):
        for value in data[:200]:
            yield from _find_key(value, key, depth + 1)
