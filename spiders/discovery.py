"""Parsing feeds, sitemaps and robots.txt into discovery entries, safely.

XML is parsed by lxml with entity resolution, network access and huge trees off; a document that declares
entities is refused outright (as defusedxml does), so no expansion attack reaches the parser.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from spiders.dates import parse_date

MAX_ENTRIES = 50_000  # the sitemap protocol's own limit per file
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ENTRY_END = re.compile(rb"</(?:[\w.-]+:)?(?:url|sitemap|item|entry)\s*>", re.IGNORECASE)  # an entry's end tag


@dataclass(frozen=True, slots=True)
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
    overflow: list[Entry] = field(default_factory=list)  # entries past the limit: seen, not to be fetched


def gunzip_bounded(data: bytes, max_size: int) -> tuple[bytes, bool]:
    """Inflate gzip data, every member of it (a multi-member file is one document, as gzip reads it), never
    holding more than `max_size` bytes (0: no limit). Returns (the data, whether it is incomplete: cut at
    `max_size`, or a stream that ends inside a member, whose last entry may be cut too). Junk after a
    complete member is not read and not counted; zlib.error when not even the first member can be read."""
    out, rest = bytearray(), data
    while rest:
        inflater = zlib.decompressobj(wbits=31)
        room = max_size - len(out) + 1 if max_size else 0
        try:
            out += inflater.decompress(rest, room)
        except zlib.error:
            if not out:
                raise
            break  # trailing junk after a member: keep what came before it
        if max_size and (len(out) > max_size or inflater.unconsumed_tail):
            return bytes(out[:max_size]), True
        if not inflater.eof:
            return bytes(out), True  # a stream cut short: what was readable
        rest = inflater.unused_data
        if not rest.strip(b"\0"):
            break  # zero padding after the last member, as gzip allows
    return bytes(out), False


# Parser options against hostile XML; each parse adds its own `recover` (see parse_document).
_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
    "remove_comments": True,
    "remove_pis": True,
}
_CHUNK = 64 << 10  # bytes fed to the streaming parser at a time
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)")
_ASCII_BASED = re.compile(rb"utf-?8|(us-)?ascii|iso-?8859-\d+|latin-?1|windows-125\d|cp125\d", re.IGNORECASE)


def _local(tag: object) -> str:
    return _local_name(tag) if isinstance(tag, str) else ""


@functools.lru_cache(maxsize=1024)  # a document has a few distinct tags, each seen once or more per entry
def _local_name(tag: str) -> str:
    # not etree.QName: the recovering parser keeps an undeclared prefix in the tag ("news:news"), which
    # QName refuses; such a sitemap's entries are still read
    return tag.rpartition("}")[2].rpartition(":")[2].lower()


def _child_text(elem: etree._Element, *names: str) -> str | None:
    for child in elem:
        if _local(child.tag) in names and child.text and child.text.strip():
            return child.text.strip()
    return None


def parse_document(body: bytes, base_url: str, max_entries: int = MAX_ENTRIES, truncated: bool = False) -> Document:
    """A feed or sitemap body (already gunzipped) as entries; never raises on bad input.

    A well-formed document is parsed as a stream, each entry's elements dropped once read, so a large sitemap
    never stands in memory as a tree (~1 KiB an entry). Anything else (an error, or even a warning) is parsed
    again whole by the recovering parser, which salvages what it can and counts the document as malformed.
    `truncated`: the body was cut short (at a size limit); an entry still open at the cut is dropped, since the
    recovering parser would close it and its URL may be cut too (`<loc>https://x.org/2025/06/a-sto`).
    """
    if not body.strip():
        return Document(None, error="empty_document")
    if _ENTITY_DECL.search(body):
        return Document(None, error="xml_entities_forbidden")
    complete = True
    if truncated:
        end = max((m.end() for m in _ENTRY_END.finditer(body)), default=0)  # after the last entry that ended
        body, complete = (body[:end], True) if end else (body, False)
    doc = _parse_streaming(body, base_url) or _parse_recovering(body, base_url)
    if not complete:  # not one entry ended before the cut
        doc.entries = []
    if len(doc.entries) > max_entries:
        doc.entries, doc.overflow = doc.entries[:max_entries], doc.entries[max_entries:]
    return doc


def _parse_recovering(body: bytes, base_url: str) -> Document:
    parser = etree.XMLParser(recover=True, **_OPTIONS)
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        return Document(None, error="malformed_xml")
    kind = _KINDS.get(_local(root.tag))
    if kind is None:
        return Document(None, error="not_a_feed_or_sitemap")
    elements = root if kind.top_level else root.iter()
    entries = [e for el in elements if _local(el.tag) in kind.tags and (e := kind.entry(el, base_url))]
    return Document(kind.name, entries, "malformed_xml" if len(parser.error_log) else None)


def _parse_streaming(body: bytes, base_url: str) -> Document | None:
    """The document parsed strictly, chunk by chunk; None unless it is well-formed without a warning."""
    if not _streamable(body):
        return None
    parser = etree.XMLPullParser(events=("start", "end"), recover=False, **_OPTIONS)
    reader = _EntryReader(base_url)
    try:
        for at in range(0, len(body), _CHUNK):
            parser.feed(body[at : at + _CHUNK])
            for event, elem in parser.read_events():
                reader.event(event, elem)
        parser.close()
    except (etree.XMLSyntaxError, ValueError):
        return None
    if len(parser.feed_error_log) or reader.kind is None:
        return None
    if reader.kind.name is None:
        return Document(None, error="not_a_feed_or_sitemap")
    return Document(reader.kind.name, [e for e in reader.entries if e])


def _streamable(body: bytes) -> bool:
    """No DOCTYPE, in an encoding where a byte search would see one (sitemaps must be UTF-8): lxml's pull
    parser mishandles the entity nodes a DTD can bring, which the check for `<!ENTITY` misses in UTF-16."""
    head = body[:1024].removeprefix(b"\xef\xbb\xbf")
    if not head.startswith(b"<") or b"\x00" in head[:4]:
        return False  # UTF-16 or UTF-32, or not XML at all: the recovering parse has its say
    declared = _DECLARED_ENCODING.match(head)
    return (declared is None or bool(_ASCII_BASED.fullmatch(declared[1]))) and not _DOCTYPE.search(body)


class _EntryReader:
    """Reads entries from parse events as `_parse_recovering` reads them from the whole tree, in document
    order, and drops each entry's elements once read."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.kind: _Kind | None = None
        self.entries: list[Entry | None] = []
        self.depth = 0
        self.open: list[int] = []  # slots in `entries` of the entry elements not closed yet (nested ones)

    def event(self, event: str, elem: etree._Element) -> None:
        kind = self.kind
        if event == "start":
            self.depth += 1
            if kind is None:
                self.kind = _KINDS.get(_local(elem.tag), _UNKNOWN)
            elif not kind.top_level and _local(elem.tag) in kind.tags:
                self.open.append(len(self.entries))  # its place in document order (start tags)
                self.entries.append(None)
            return
        self.depth -= 1
        assert kind is not None  # an end event follows its start
        if _local(elem.tag) not in kind.tags or kind.top_level and self.depth != 1:
            return
        entry = kind.entry(elem, self.base_url)
        if kind.top_level:
            self.entries.append(entry)
        else:
            self.entries[self.open.pop()] = entry
        if not self.open:  # not inside another entry, whose own children it could be
            elem.clear()
            while elem.getprevious() is not None:
                del elem.getparent()[0]


def absolute(base_url: str, href: str | None) -> str | None:
    """`href` made absolute against `base_url`, if it is then an http(s) URL."""
    if not href:
        return None
    url = urljoin(base_url, href.strip())
    return url if url.startswith(("http://", "https://")) else None


def _rss_entry(item: etree._Element, base_url: str) -> Entry | None:
    link = _child_text(item, "link")
    if not link:
        guid = next((c for c in item if _local(c.tag) == "guid"), None)
        if guid is not None and guid.get("isPermaLink", "true").lower() == "true":
            link = (guid.text or "").strip()
    link = link or item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
    if url := absolute(base_url, link):
        hint = parse_date(_child_text(item, "pubdate", "date", "published"))
        return Entry(url, hint, hint is not None)
    return None


def _atom_entry(entry: etree._Element, base_url: str) -> Entry | None:
    links = [c for c in entry if _local(c.tag) == "link" and c.get("href")]
    link = next((c for c in links if c.get("rel", "alternate") == "alternate"), None)
    if link is None or not (url := absolute(base_url, link.get("href"))):
        return None
    published = parse_date(_child_text(entry, "published", "issued"))
    hint = published or parse_date(_child_text(entry, "updated", "modified"))
    return Entry(url, hint, published is not None)


def _sitemap_entry(elem: etree._Element, base_url: str) -> Entry | None:
    url = absolute(base_url, _child_text(elem, "loc"))
    if not url:
        return None
    news = next((c for c in elem if _local(c.tag) == "news"), None)
    published = parse_date(_child_text(news, "publication_date")) if news is not None else None
    hint = published or parse_date(_child_text(elem, "lastmod"))
    return Entry(url, hint, published is not None, news is not None)


@dataclass(frozen=True)
class _Kind:
    """A document kind by its root element: which elements are entries, and how to read one."""

    name: str | None
    tags: tuple[str, ...] = ()
    top_level: bool = False  # entries are the root's children only (sitemaps), else at any depth (feeds)
    entry: Callable[[etree._Element, str], Entry | None] = lambda elem, base_url: None


_UNKNOWN = _Kind(None)
_SITEMAP_TAGS = ("url", "sitemap")
_KINDS = {
    "rss": _Kind("rss", ("item",), entry=_rss_entry),
    "rdf": _Kind("rss", ("item",), entry=_rss_entry),
    "feed": _Kind("atom", ("entry",), entry=_atom_entry),
    "urlset": _Kind("sitemap", _SITEMAP_TAGS, top_level=True, entry=_sitemap_entry),
    "sitemapindex": _Kind("sitemapindex", _SITEMAP_TAGS, top_level=True, entry=_sitemap_entry),
}
