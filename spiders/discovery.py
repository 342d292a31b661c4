"""Parsing feeds, sitemaps and robots.txt into discovery entries, safely.

XML is parsed by lxml with entity resolution, network access and huge trees off; a document that declares
entities is refused outright (as defusedxml does), so no expansion attack reaches the parser.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from spiders.dates import parse_date

MAX_ENTRIES = 50_000  # the sitemap protocol's own limit per file
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    """One URL found in a feed or sitemap, with its date hint if any."""

    url: str
    date_hint: datetime | None = None
    date_hint_is_published: bool = (
        False  # publication date (pubDate, news:publication_date), else a modification
    )
    news: bool = False


@dataclass
class Document:
    kind: str | None  # rss, atom, sitemap, sitemapindex; None when unusable
    entries: list[Entry] = field(default_factory=list)
    error: str | None = None  # why the document is unusable, or what was wrong with a recovered one
    truncated: bool = False


class TooLarge(ValueError):
    """A compressed document that inflates past the size limit (a gzip bomb, or just too big)."""


def gunzip_bounded(data: bytes, max_size: int) -> bytes:
    """Inflate gzip data without ever holding more than `max_size` bytes; a truncated stream gives what
    was readable. Raises TooLarge past the limit, zlib.error on a corrupt stream."""
    inflater = zlib.decompressobj(wbits=31)
    out = inflater.decompress(data, max_size + 1 if max_size else 0)
    if max_size and (len(out) > max_size or inflater.unconsumed_tail):
        raise TooLarge(f"inflates past {max_size} bytes")
    return out


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        recover=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(elem: etree._Element, *names: str) -> str | None:
    for child in elem:
        if _local(child.tag) in names and child.text and child.text.strip():
            return child.text.strip()
    return None


def parse_document(body: bytes, base_url: str) -> Document:
    """A feed or sitemap body (already gunzipped) as entries; never raises on bad input."""
    if not body.strip():
        return Document(None, error="empty_document")
    if _ENTITY_DECL.search(body):
        return Document(None, error="xml_entities_forbidden")
    parser = _parser()
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        return Document(None, error="malformed_xml")
    recovered = "malformed_xml" if len(parser.error_log) else None
    kind = _local(root.tag)
    if kind in ("rss", "rdf"):
        doc = Document("rss", _rss_entries(root, base_url), recovered)
    elif kind == "feed":
        doc = Document("atom", _atom_entries(root, base_url), recovered)
    elif kind in ("urlset", "sitemapindex"):
        doc = Document(
            "sitemap" if kind == "urlset" else "sitemapindex", _sitemap_entries(root, base_url), recovered
        )
    else:
        return Document(None, error="not_a_feed_or_sitemap")
    if len(doc.entries) > MAX_ENTRIES:
        doc.entries, doc.truncated = doc.entries[:MAX_ENTRIES], True
    return doc


def _absolute(base_url: str, href: str | None) -> str | None:
    if not href:
        return None
    url = urljoin(base_url, href.strip())
    return url if url.startswith(("http://", "https://")) else None


def _rss_entries(root: etree._Element, base_url: str) -> list[Entry]:
    out = []
    for item in root.iter():
        if _local(item.tag) != "item":
            continue
        link = _child_text(item, "link")
        if not link:
            guid = next((c for c in item if _local(c.tag) == "guid"), None)
            if guid is not None and guid.get("isPermaLink", "true").lower() == "true":
                link = (guid.text or "").strip()
        link = link or item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        if url := _absolute(base_url, link):
            hint = parse_date(_child_text(item, "pubdate", "date", "published"))
            out.append(Entry(url, hint, hint is not None))
    return out


def _atom_entries(root: etree._Element, base_url: str) -> list[Entry]:
    out = []
    for entry in root.iter():
        if _local(entry.tag) != "entry":
            continue
        links = [c for c in entry if _local(c.tag) == "link" and c.get("href")]
        link = next((c for c in links if c.get("rel", "alternate") == "alternate"), None)
        if link is None or not (url := _absolute(base_url, link.get("href"))):
            continue
        published = parse_date(_child_text(entry, "published", "issued"))
        hint = published or parse_date(_child_text(entry, "updated", "modified"))
        out.append(Entry(url, hint, published is not None))
    return out


def _sitemap_entries(root: etree._Element, base_url: str) -> list[Entry]:
    out = []
    for elem in root:
        if _local(elem.tag) not in ("url", "sitemap"):
            continue
        url = _absolute(base_url, _child_text(elem, "loc"))
        if not url:
            continue
        news = next((c for c in elem if _local(c.tag) == "news"), None)
        published = parse_date(_child_text(news, "publication_date")) if news is not None else None
        hint = published or parse_date(_child_text(elem, "lastmod"))
        out.append(Entry(url, hint, published is not None, news is not None))
    return out


def robots_sitemaps(text: str, base_url: str) -> list[str]:
    """The `Sitemap:` lines of a robots.txt, as absolute URLs."""
    urls = (_absolute(base_url, m) for m in _SITEMAP_LINE.findall(text[:500_000]))
    return list(dict.fromkeys(u for u in urls if u))
