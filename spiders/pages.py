"""What the spider reads from an article page: its publication date and its canonical URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

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
        href = (sel.xpath(xpath).get() or "").strip()
        if href:
            from urllib.parse import urljoin

            absolute = urljoin(url, href)
            if absolute.startswith(("http://", "https://")) and same_site(absolute, url):
                return strip_tracking(absolute)
    return strip_tracking(url)


def _json_ld(sel: Selector) -> Iterator[Any]:
    for script in sel.xpath("//script[@type='application/ld+json']/text()").getall()[:20]:
        try:
            yield json.loads(script)
        except ValueError:
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
